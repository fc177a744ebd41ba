#include "engine/models/mtcnn/net.h"

#include <string>

#include "animegan/error.h"

namespace animegan::mtcnn {

Tensor image_to_input(const Image& image) {
    if (image.width <= 0 || image.height <= 0 ||
        image.pixels.size() != size_t(image.width) * image.height * 3) {
        throw Error("MTCNN: empty or inconsistent image");
    }
    Tensor t(3, image.height, image.width);
    const size_t plane = t.plane_size();
    for (size_t i = 0; i < plane; ++i) {
        for (int c = 0; c < 3; ++c) t.data()[c * plane + i] = (image.pixels[i * 3 + c] - 127.5f) * 0.0078125f;
    }
    return t;
}

Net::Net(weights::TensorBinder& binder, const NetSpec& spec) : spec_(spec) {
    auto bind = [&](const std::string& name, std::vector<int64_t> shape) {
        return binder.bind({name, std::move(shape)});
    };
    auto bind_conv = [&](const char* name, int in, int out, int kernel, bool prelu) {
        Conv c;
        c.weight = bind(weight_name(spec, name), {out, in, kernel, kernel});
        c.bias = bind(bias_name(spec, name), {out});
        if (prelu) c.slopes = bind(prelu_name(spec, name), {out});
        c.out = out, c.kernel = kernel;
        return c;
    };
    for (const Layer& l : spec.trunk) {
        trunk_.push_back(l.kernel == 0 ? Conv{} : bind_conv(l.name, l.in, l.out, l.kernel, true));
    }
    for (const Head& h : spec.heads)
        heads_.push_back(bind_conv(h.name, spec.trunk_channels, h.out, 1, false));
}

// The bias is added after the sum, as TensorFlow Lite and Arm NN do (the tests compare with Arm NN).
Tensor Net::conv(ops::Context& ctx, const Conv& c, const Tensor& x) const {
    Tensor y = ops::conv2d(ctx, x, c.weight, nullptr, c.out, c.kernel, c.kernel, 1, 1);
    if (c.slopes) {
        ops::bias_prelu_in_place(ctx, y, c.bias, c.slopes);
    } else {
        ops::bias_leaky_relu_in_place(ctx, y, c.bias, 1.f);
    }
    return y;
}

std::vector<Tensor> Net::run(ops::Context& ctx, const Tensor& input) const {
    const bool whole_image = spec_.kind == NetKind::P;
    const bool fits = input.channels() == 3 &&
                      (whole_image ? input.height() >= spec_.input && input.width() >= spec_.input
                                   : input.height() == spec_.input && input.width() == spec_.input);
    if (!fits) {
        const std::string side = std::to_string(spec_.input);
        throw Error(std::string("MTCNN ") + spec_.title + " input must be [3, " + side +
                    (whole_image ? "+" : "") + ", " + side + (whole_image ? "+" : "") + "], got [" +
                    std::to_string(input.channels()) + ", " + std::to_string(input.height()) + ", " +
                    std::to_string(input.width()) + "]");
    }
    Tensor x = input;
    for (size_t i = 0; i < trunk_.size(); ++i) {
        const Layer& l = spec_.trunk[i];
        x = l.kernel == 0 ? ops::max_pool(ctx, x, l.pool, 2, l.same) : conv(ctx, trunk_[i], x);
    }
    std::vector<Tensor> outputs;
    for (const Conv& h : heads_) outputs.push_back(conv(ctx, h, x));
    return outputs;
}

}  // namespace animegan::mtcnn
