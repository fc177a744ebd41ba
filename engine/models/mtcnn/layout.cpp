#include "engine/models/mtcnn/layout.h"

namespace animegan::mtcnn {

const std::vector<NetSpec>& nets() {
    static const std::vector<NetSpec> nets = {
        {NetKind::P,
         "pnet",
         "P-Net",
         12,
         {{"conv1", 3, 10, 3}, {"pool1", 10, 10, 0, 2, true}, {"conv2", 10, 16, 3}, {"conv3", 16, 32, 3}},
         32,
         {{"conv4-1", 2}, {"conv4-2", 4}}},
        {NetKind::R,
         "rnet",
         "R-Net",
         24,
         {{"conv1", 3, 28, 3},
          {"pool1", 28, 28, 0, 3, true},
          {"conv2", 28, 48, 3},
          {"pool2", 48, 48, 0, 3, false},
          {"conv3", 48, 64, 2},
          {"conv4", 64, 128, 3}},
         128,
         {{"conv5-1", 2}, {"conv5-2", 4}}},
        {NetKind::O,
         "onet",
         "O-Net",
         48,
         {{"conv1", 3, 32, 3},
          {"pool1", 32, 32, 0, 3, true},
          {"conv2", 32, 64, 3},
          {"pool2", 64, 64, 0, 3, false},
          {"conv3", 64, 64, 3},
          {"pool3", 64, 64, 0, 2, true},
          {"conv4", 64, 128, 2},
          {"conv5", 128, 256, 3}},
         256,
         {{"conv6-1", 2}, {"conv6-2", 4}, {"conv6-3", 10}}},
    };
    return nets;
}

const NetSpec& net_spec(NetKind kind) {
    return nets()[size_t(kind)];
}

std::string weight_name(const NetSpec& net, const char* conv) {
    return std::string(net.name) + "." + conv + ".weight";
}
std::string bias_name(const NetSpec& net, const char* conv) {
    return std::string(net.name) + "." + conv + ".bias";
}
std::string prelu_name(const NetSpec& net, const char* conv) {
    return std::string(net.name) + "." + conv + ".prelu";
}

std::vector<weights::TensorSpec> tensor_specs(const NetSpec& net) {
    std::vector<weights::TensorSpec> specs;
    for (const Layer& l : net.trunk) {
        if (l.kernel == 0) continue;
        specs.push_back({weight_name(net, l.name), {l.out, l.in, l.kernel, l.kernel}});
        specs.push_back({bias_name(net, l.name), {l.out}});
        specs.push_back({prelu_name(net, l.name), {l.out}});
    }
    for (const Head& h : net.heads) {
        specs.push_back({weight_name(net, h.name), {h.out, net.trunk_channels, 1, 1}});
        specs.push_back({bias_name(net, h.name), {h.out}});
    }
    return specs;
}

std::vector<weights::TensorSpec> tensor_specs() {
    std::vector<weights::TensorSpec> specs;
    for (const NetSpec& net : nets()) {
        const std::vector<weights::TensorSpec> s = tensor_specs(net);
        specs.insert(specs.end(), s.begin(), s.end());
    }
    return specs;
}

}  // namespace animegan::mtcnn
