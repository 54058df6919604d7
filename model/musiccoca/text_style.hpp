#pragma once

#include <memory>

#include "engine/text_style.hpp"
#include "model/package.hpp"

namespace continuo::model::musiccoca {

// The engine's TextStyle from a package's [musiccoca] section: blend the prompts' embeddings
// (a weighted mean, as upstream), quantize once. `style_codes`: tokens the Depthformer's
// style table takes per level; a token at or past it is refused (std::invalid_argument).
// ModelFileError naming the file when the text path will not load.
std::shared_ptr<const TextStyle> load_text_style(const ModelPackage& package, std::size_t style_codes);

}  // namespace continuo::model::musiccoca
