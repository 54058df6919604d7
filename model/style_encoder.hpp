#pragma once

#include <memory>

#include "engine/style_encoder.hpp"
#include "model/depthformer_config.hpp"
#include "model/package.hpp"

namespace continuo::model {

// The engine's StyleEncoder from a package's [musiccoca] text path (model/musiccoca) or its text
// tower (model/text_tower): blend the prompts' embeddings, then quantize once. None when the
// package has neither. ModelFileError when the tower's tokens would not fit the
// Depthformer's style table.
std::shared_ptr<const StyleEncoder> load_style_encoder(const ModelPackage& package, const DepthformerConfig& lm);

}  // namespace continuo::model
