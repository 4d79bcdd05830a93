// The name of the hidden folder inside each destination that holds the tool's own state: partial
// files, resume journals, records of completed files, archive extraction scratch space.
#pragma once

#include <string_view>

namespace mrsi {

inline constexpr std::string_view state_dir_name = ".mr-storage-initializer";

}  // namespace mrsi
