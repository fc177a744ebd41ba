#include "weights/tensor_binder.h"

#include "animegan/error.h"
#include "weights/shape_string.h"

namespace animegan::weights {

const float* TensorBinder::bind(const TensorSpec& spec) {
    const GgufTensor* t = file_.find(spec.name);
    if (!t) throw Error(file_.path() + ": missing tensor '" + spec.name + "'");
    if (t->shape != spec.shape) {
        throw Error(file_.path() + ": tensor '" + spec.name + "' has shape " + shape_string(t->shape) +
                    ", expected " + shape_string(spec.shape));
    }
    bound_.insert(spec.name);
    if (t->type == GgufType::F32) return reinterpret_cast<const float*>(t->data);
    converted_.push_back(t->to_f32());
    return converted_.back().data();
}

void TensorBinder::check_all_bound() const {
    for (const GgufTensor& t : file_.tensors()) {
        if (!bound_.count(t.name)) throw Error(file_.path() + ": unexpected tensor '" + t.name + "'");
    }
}

}  // namespace animegan::weights
