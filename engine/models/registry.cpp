#include "engine/models/registry.h"

namespace animegan {
namespace animeganv2 {
extern const models::Network kNetwork;
}
namespace blazeface {
extern const models::Network kNetwork;
}
namespace mtcnn {
extern const models::Network kNetwork;
}

namespace models {

const std::vector<const Network*>& networks() {
    static const std::vector<const Network*> all = {&animeganv2::kNetwork, &blazeface::kNetwork,
                                                    &mtcnn::kNetwork};
    return all;
}

std::string base_name(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string file_stem(const std::string& path) {
    const std::string name = base_name(path);
    const size_t dot = name.find_last_of('.');
    return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

}  // namespace models
}  // namespace animegan
