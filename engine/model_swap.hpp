#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "engine/config.hpp"
#include "engine/generator.hpp"
#include "engine/job_thread.hpp"
#include "engine/model.hpp"
#include "engine/model_registry.hpp"

namespace continuo {

// Switches the playing model while it plays (/continuo/model/load, a config reload). The
// new model is loaded and reset on a loader thread of its own, never the generator's or
// the audio thread's; a package that fails to load (a missing or misshapen tensor, a
// truncated file, a bad manifest) is refused and the model playing plays on untouched. A
// good one is handed to the generator, which switches at its next frame boundary as on a
// reset (the lookahead fades out); the model it replaced is destroyed back on the loader
// thread. One load at a time.
class ModelSwap {
 public:
  // On the loader thread once the generator steps the new model (settings() are its own).
  using Swapped = std::function<void(const std::string& name, const Model& model)>;
  // On the loader thread when a load ends: "" when the model plays, else why not.
  using Done = JobThread::Done;

  // playing: the model the generator steps now, loaded as name with settings.
  ModelSwap(const ModelRegistry& registry, Generator& generator, std::unique_ptr<Model> playing, std::string name,
            const ModelConfig& settings, Swapped swapped);
  // Refuses loads from now on and waits for one under way, whose done then runs: before
  // what done and swapped reach goes, while the generator still runs.
  void close() { loader_.close(); }
  ModelSwap(const ModelSwap&) = delete;
  ModelSwap& operator=(const ModelSwap&) = delete;

  // A package by bare name (is_package_name), looked up in model_dirs(model.dir) only: the
  // one form a performer may name, never a path or a kind:argument. "" when the load has
  // started (done follows), else why not: the name, or "busy" while another load runs.
  std::string load_package(const std::string& name, Done done);
  // settings.spec in any form the registry takes, with settings in force from then on (a
  // config reload: the file is trusted as the command line is).
  std::string load_config(const ModelConfig& settings, Done done);

  std::string playing_name() const;
  ModelInfo playing_info() const;
  ModelConfig settings() const;  // the [model] settings the playing model was loaded with

 private:
  using Load = std::function<std::unique_ptr<Model>()>;
  std::string start(std::string name, ModelConfig settings, Load load, Done done);
  std::string run(const std::string& name, const ModelConfig& settings, const Load& load);
  void hand_over(std::unique_ptr<Model> next, const std::string& name, const ModelConfig& settings);

  const ModelRegistry& registry_;
  Generator& generator_;
  Swapped swapped_;
  mutable std::mutex mutex_;  // guards everything below
  std::unique_ptr<Model> playing_;
  std::string name_;
  ModelConfig settings_;
  JobThread loader_;  // last: destroyed (joined) first, while what its job reaches lives
};

// Why name may not be given to /continuo/model/load, or "" when it may.
std::string check_package_name(const std::string& name);

}  // namespace continuo
