#include "engine/models/animeganv2/importers.h"

namespace animegan::animeganv2 {

extern const models::Network kNetwork;
const models::Network kNetwork = {"animeganv2", "the AnimeGANv2 generator", import_tflite, import_torch,
                                  nullptr};

}  // namespace animegan::animeganv2
