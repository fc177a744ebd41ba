// Reader for TensorFlow Lite flatbuffer files (.tflite), written against the public schema
// (tensorflow/lite/schema/schema.fbs) without TensorFlow or the flatbuffers library.
//
// It exposes subgraph 0 (tensors, operators in execution order, graph inputs/outputs) and the raw
// buffers, and decodes constant tensors to float32. Every offset and length in the file is checked
// before it is read, so a truncated or hostile file ends in animegan::Error, never in a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace animegan::weights {

// The schema's TensorType codes we can tell apart; everything else (string, complex, int4, ...) is Other.
enum class TfliteType { Float32, Float16, Int32, UInt8, Int64, Int8, Int16, Bool, Other };

// Affine quantization: real = scale * (q - zero_point). One scale means per-tensor; more means one per
// index along `quantized_dimension` of the tensor's shape.
struct TfliteQuantization {
    std::vector<float> scale;
    std::vector<int64_t> zero_point;
    int quantized_dimension = 0;
};

struct TfliteTensor {
    std::string name;
    std::vector<int32_t> shape;
    TfliteType type = TfliteType::Other;
    int buffer = 0;  // index into TfliteModel::buffers (0 = no data)
    TfliteQuantization quant;
};

struct TfliteOperator {
    // Builtin operator name as spelled in the schema ("CONV_2D", "MIRROR_PAD", ...), "BUILTIN_<n>" for
    // codes this reader does not know, "CUSTOM:<custom_code>" for custom operators.
    std::string op;
    std::vector<int32_t> inputs, outputs;  // tensor indices; -1 marks an absent optional input

    // Builtin options. Only those of the operator's own option table are meaningful; the rest keep
    // these defaults. Decoded tables: Conv2D, DepthwiseConv2D, Pool2D, FullyConnected, Concatenation,
    // Add/Sub/Mul/Div, ResizeBilinear, ResizeNearestNeighbor, Reducer, LeakyRelu, MirrorPad.
    int stride_w = 1, stride_h = 1, dilation_w = 1, dilation_h = 1, depth_multiplier = 1;
    enum class Padding { Same, Valid } padding = Padding::Same;
    std::string fused_activation = "NONE";  // NONE, RELU, RELU_N1_TO_1, RELU6, TANH, SIGN_BIT
    std::string mirror_pad_mode;            // "REFLECT" or "SYMMETRIC" (MIRROR_PAD only)
    bool align_corners = false, half_pixel_centers = false;  // RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR
    float alpha = 0.f;                                       // LEAKY_RELU
    int filter_w = 0, filter_h = 0;                          // pools
    bool keep_dims = false;                                  // reducers (MEAN, SUM, ...)
    int axis = 0;                                            // CONCATENATION
};

struct TfliteModel {
    std::string label;  // the name errors are reported under (usually the file path)
    int version = 0;
    std::string description;
    std::vector<TfliteTensor> tensors;      // of subgraph 0
    std::vector<TfliteOperator> operators;  // of subgraph 0, in execution order
    std::vector<int32_t> inputs, outputs;   // of subgraph 0
    // Payload of each buffer, pointing into the parsed bytes (the caller keeps them alive);
    // {nullptr, 0} when the buffer holds no data.
    std::vector<std::pair<const uint8_t*, size_t>> buffers;

    // The tensor's payload as float32: float32 as is, float16 widened, integer types dequantized as
    // scale * (q - zero_point) per tensor or per channel (along quant.quantized_dimension) when the
    // tensor carries scales, else converted as plain numbers; bool as 0/1.
    // Throws animegan::Error for a bad index, an unsupported type, inconsistent quantization, or a
    // payload whose size is not shape x element size (so a tensor without data throws unless it is empty).
    std::vector<float> tensor_as_float(int tensor_index) const;
};

// Parses and validates the file in data[0, size). The caller owns `data` and keeps it alive as long as
// the model. `label` names the file in error messages. Only subgraph 0 is decoded (and so validated).
// Throws animegan::Error when the file is not a well-formed TFLite model.
TfliteModel parse_tflite(const uint8_t* data, size_t size, const std::string& label);

// Name of a TfliteType ("FLOAT32", "INT8", ...), for messages and dumps.
const char* tflite_type_name(TfliteType type);

}  // namespace animegan::weights
