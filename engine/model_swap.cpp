#include "engine/model_swap.hpp"

#include <chrono>
#include <exception>
#include <thread>
#include <utility>

#include "engine/log.hpp"

namespace continuo {

std::string check_package_name(const std::string& name) {
  if (is_package_name(name)) return {};
  constexpr std::size_t kShown = 64;
  const std::string shown = name.size() > kShown ? name.substr(0, kShown) + "..." : name;
  return "not a model package name: \"" + shown +
         "\" (1..128 letters, digits, '.', '_' or '-', not starting with '.'; a package in model.dir)";
}

ModelSwap::ModelSwap(const ModelRegistry& registry, Generator& generator, std::unique_ptr<Model> playing,
                     std::string name, const ModelConfig& settings, Swapped swapped)
    : registry_(registry),
      generator_(generator),
      swapped_(std::move(swapped)),
      playing_(std::move(playing)),
      name_(std::move(name)),
      settings_(settings) {}

std::string ModelSwap::load_package(const std::string& name, Done done) {
  std::string why = check_package_name(name);
  if (!why.empty()) return why;
  ModelConfig settings;
  {
    const std::lock_guard lock(mutex_);
    settings = settings_;
  }
  settings.spec = name;
  return start(name, settings, [this, name, settings] { return registry_.load_package(name, model_options(settings)); },
               std::move(done));
}

std::string ModelSwap::load_config(const ModelConfig& settings, Done done) {
  return start(settings.spec, settings,
               [this, settings] { return registry_.load(settings.spec, model_options(settings)); }, std::move(done));
}

std::string ModelSwap::start(std::string name, ModelConfig settings, Load load, Done done) {
  std::string busy = "busy: still loading " + name;
  return loader_.start([this, name = std::move(name), settings = std::move(settings),
                        load = std::move(load)] { return run(name, settings, load); },
                       std::move(done), std::move(busy));
}

std::string ModelSwap::run(const std::string& name, const ModelConfig& settings, const Load& load) {
  std::string why;
  try {
    log_info("model: loading ", name, " while ", playing_name(), " plays");
    std::unique_ptr<Model> next = load();
    next->reset(settings.seed);
    hand_over(std::move(next), name, settings);
  } catch (const std::exception& error) {
    why = error.what();
    log_error("model: ", name, " refused: ", why, "; ", playing_name(), " plays on");
  }
  return why;
}

// The generator switches at its next frame boundary, within a frame's time; only then is
// the model it stepped free to go, destroyed here rather than on a thread audio waits for.
void ModelSwap::hand_over(std::unique_ptr<Model> next, const std::string& name, const ModelConfig& settings) {
  const std::uint64_t before = generator_.models_swapped();
  generator_.request_model(*next, settings.seed);
  while (generator_.models_swapped() == before) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const Model& playing = *next;  // owned by playing_ below; only this thread replaces it
  std::unique_ptr<Model> previous;
  {
    const std::lock_guard lock(mutex_);
    previous = std::exchange(playing_, std::move(next));
    name_ = name;
    settings_ = settings;
  }
  swapped_(name, playing);
  previous.reset();
  log_info("model: ", name, " plays");
}

std::string ModelSwap::playing_name() const {
  const std::lock_guard lock(mutex_);
  return name_;
}

ModelInfo ModelSwap::playing_info() const {
  const std::lock_guard lock(mutex_);
  return playing_->info();
}

ModelConfig ModelSwap::settings() const {
  const std::lock_guard lock(mutex_);
  return settings_;
}

}  // namespace continuo
