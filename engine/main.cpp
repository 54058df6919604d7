#include "engine/app.hpp"
#include "tests/doubles/doubles.hpp"

int main(int argc, char** argv) {
  continuo::ModelRegistry registry;
  // The model runtime registers its package loader here when it lands; until then the
  // engine plays its test doubles.
  continuo::doubles::register_test_doubles(registry);
  return continuo::app_main({argv + 1, argv + argc}, registry);
}
