#include "engine/app.hpp"
#include "model/mrt2_model.hpp"
#include "tests/doubles/doubles.hpp"

int main(int argc, char** argv) {
  continuo::ModelRegistry registry;
  continuo::model::register_packages(registry);
  // The test doubles: a test tone for checking the audio path, and what the tests drive.
  continuo::doubles::register_test_doubles(registry);
  return continuo::app_main({argv + 1, argv + argc}, registry);
}
