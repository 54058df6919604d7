#pragma once

#include <memory>

#include "engine/style_encoder.hpp"
#include "model/package.hpp"

namespace continuo::model::musiccoca {

// The engine's StyleEncoder from a package's [musiccoca] section: blend the embeddings of text
// and audio prompts (a weighted mean, as upstream), quantize once. Audio prompts need the
// audio path (audio_preprocessor and music_encoder in the section). `style_codes`: tokens the
// Depthformer's style table takes per level; a token at or past it is refused
// (std::invalid_argument). ModelFileError naming the file when a path will not load.
std::shared_ptr<const StyleEncoder> load_style_encoder(const ModelPackage& package, std::size_t style_codes);

}  // namespace continuo::model::musiccoca
