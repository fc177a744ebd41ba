// TFLite flatbuffer reader. Flatbuffer layout in brief:
//   - byte 0: u32 offset to the root table; bytes 4..8: file identifier "TFL3".
//   - table at T: i32 soffset, its vtable lives at T - soffset. The vtable is [u16 vtable bytes,
//     u16 table bytes, u16 field offset per slot (0 = absent, use the schema default)].
//   - a reference field at F holds a u32 offset relative to F; vectors are [u32 count][elements],
//     strings are [u32 length][bytes][NUL]; a union is a u8 type slot followed by an offset slot.
// Slot numbers below are the field order of tensorflow/lite/schema/schema.fbs.
//
// Robustness: every read goes through Reader::check_range (all arithmetic in uint64_t, no alignment
// assumed: values are memcpy'd), vector counts are checked against the bytes left before anything
// is allocated, and the total number of decoded elements is capped relative to the file size so that
// tables shared many times over cannot blow up memory. The walk follows the fixed shape of the schema
// (Model > SubGraph > Tensor/Operator > options) and never recurses on file data, which bounds nesting.
#include "weights/tflite_reader.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <optional>

#include "animegan/error.h"
#include "weights/float16.h"
#include "weights/shape_string.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "TFLite files are little-endian and this reader memcpy's their values directly"
#endif

namespace animegan::weights {
namespace {

// BuiltinOperator enum of the schema, indexed by code.
// clang-format off
const char* const kBuiltinNames[] = {
    /*   0 */ "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE",
    /*   6 */ "DEQUANTIZE", "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP",
    /*  11 */ "L2_NORMALIZATION", "L2_POOL_2D", "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION",
    /*  16 */ "LSTM", "MAX_POOL_2D", "MUL", "RELU", "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR",
    /*  24 */ "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH", "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL",
    /*  32 */ "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD", "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER",
    /*  37 */ "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB", "DIV", "SQUEEZE",
    /*  44 */ "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP", "TOPK_V2",
    /*  49 */ "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM",
    /*  56 */ "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL",
    /*  64 */ "SELECT", "SLICE", "SIN", "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL",
    /*  72 */ "NOT_EQUAL", "LOG", "SUM", "SQRT", "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT",
    /*  81 */ "REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR", "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT",
    /*  88 */ "UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL", "FLOOR_MOD",
    /*  96 */ "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS",
    /* 102 */ "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK", "ELU",
    /* 112 */ "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF",
    /* 119 */ "WHILE", "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2",
    /* 124 */ "DENSIFY", "SEGMENT_SUM", "BATCH_MATMUL", "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM",
    /* 129 */ "CALL_ONCE", "BROADCAST_TO", "RFFT2D", "CONV_3D", "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE",
    /* 137 */ "HASHTABLE_FIND", "HASHTABLE_IMPORT", "HASHTABLE_SIZE", "REDUCE_ALL", "CONV_3D_TRANSPOSE",
    /* 142 */ "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL",
    /* 147 */ "BUCKETIZE", "RANDOM_UNIFORM", "MULTINOMIAL", "GELU", "DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1",
    /* 153 */ "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_SUM", "ATAN2",
    /* 157 */ "UNSORTED_SEGMENT_MIN", "SIGN", "BITCAST", "BITWISE_XOR", "RIGHT_SHIFT", "STABLEHLO_LOGISTIC",
    /* 163 */ "STABLEHLO_ADD", "STABLEHLO_DIVIDE", "STABLEHLO_MULTIPLY", "STABLEHLO_MAXIMUM",
    /* 167 */ "STABLEHLO_RESHAPE", "STABLEHLO_CLAMP", "STABLEHLO_CONCATENATE", "STABLEHLO_BROADCAST_IN_DIM",
    /* 171 */ "STABLEHLO_CONVOLUTION", "STABLEHLO_SLICE", "STABLEHLO_CUSTOM_CALL", "STABLEHLO_REDUCE",
    /* 175 */ "STABLEHLO_ABS", "STABLEHLO_AND", "STABLEHLO_COSINE", "STABLEHLO_EXPONENTIAL",
    /* 179 */ "STABLEHLO_FLOOR", "STABLEHLO_LOG", "STABLEHLO_MINIMUM", "STABLEHLO_NEGATE", "STABLEHLO_OR",
    /* 184 */ "STABLEHLO_POWER", "STABLEHLO_REMAINDER", "STABLEHLO_RSQRT", "STABLEHLO_SELECT",
    /* 188 */ "STABLEHLO_SUBTRACT", "STABLEHLO_TANH", "STABLEHLO_SCATTER", "STABLEHLO_COMPARE",
    /* 192 */ "STABLEHLO_CONVERT", "STABLEHLO_DYNAMIC_SLICE", "STABLEHLO_DYNAMIC_UPDATE_SLICE",
    /* 195 */ "STABLEHLO_PAD", "STABLEHLO_IOTA", "STABLEHLO_DOT_GENERAL", "STABLEHLO_REDUCE_WINDOW",
    /* 199 */ "STABLEHLO_SORT", "STABLEHLO_WHILE", "STABLEHLO_GATHER", "STABLEHLO_TRANSPOSE", "DILATE",
    /* 204 */ "STABLEHLO_RNG_BIT_GENERATOR", "REDUCE_WINDOW",
};
// clang-format on
static_assert(sizeof(kBuiltinNames) / sizeof(kBuiltinNames[0]) == 206, "one name per code 0..205");
constexpr int kBuiltinCustom = 32;

const char* const kActivationNames[] = {"NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT"};

// Type codes of the BuiltinOptions union (position in the union, 1-based) for the tables we decode.
enum OptionsType : uint8_t {
    kNoOptions = 0,
    kConv2DOptions = 1,
    kDepthwiseConv2DOptions = 2,
    kPool2DOptions = 5,
    kFullyConnectedOptions = 8,
    kConcatenationOptions = 10,
    kAddOptions = 11,
    kResizeBilinearOptions = 15,
    kMulOptions = 21,
    kReducerOptions = 27,
    kSubOptions = 28,
    kDivOptions = 29,
    kResizeNearestNeighborOptions = 74,
    kLeakyReluOptions = 75,
    kMirrorPadOptions = 77,
};

// The option table each builtin we decode must carry (if it carries one), so that a CONV_2D with,
// say, ReshapeOptions is rejected instead of silently running with default strides.
OptionsType expected_options(const std::string& op) {
    static const std::pair<const char*, OptionsType> kTable[] = {
        {"CONV_2D", kConv2DOptions},
        {"DEPTHWISE_CONV_2D", kDepthwiseConv2DOptions},
        {"AVERAGE_POOL_2D", kPool2DOptions},
        {"MAX_POOL_2D", kPool2DOptions},
        {"L2_POOL_2D", kPool2DOptions},
        {"FULLY_CONNECTED", kFullyConnectedOptions},
        {"CONCATENATION", kConcatenationOptions},
        {"ADD", kAddOptions},
        {"SUB", kSubOptions},
        {"MUL", kMulOptions},
        {"DIV", kDivOptions},
        {"RESIZE_BILINEAR", kResizeBilinearOptions},
        {"RESIZE_NEAREST_NEIGHBOR", kResizeNearestNeighborOptions},
        {"MEAN", kReducerOptions},
        {"SUM", kReducerOptions},
        {"REDUCE_PROD", kReducerOptions},
        {"REDUCE_MAX", kReducerOptions},
        {"REDUCE_MIN", kReducerOptions},
        {"REDUCE_ANY", kReducerOptions},
        {"LEAKY_RELU", kLeakyReluOptions},
        {"MIRROR_PAD", kMirrorPadOptions},
    };
    for (const auto& [name, type] : kTable)
        if (op == name) return type;
    return kNoOptions;
}

TfliteType type_from_code(int8_t code) {
    switch (code) {
        case 0:
            return TfliteType::Float32;
        case 1:
            return TfliteType::Float16;
        case 2:
            return TfliteType::Int32;
        case 3:
            return TfliteType::UInt8;
        case 4:
            return TfliteType::Int64;
        case 6:
            return TfliteType::Bool;
        case 7:
            return TfliteType::Int16;
        case 9:
            return TfliteType::Int8;
        default:
            return TfliteType::Other;
    }
}

size_t element_size(TfliteType type) {
    switch (type) {
        case TfliteType::Float32:
        case TfliteType::Int32:
            return 4;
        case TfliteType::Float16:
        case TfliteType::Int16:
            return 2;
        case TfliteType::UInt8:
        case TfliteType::Int8:
        case TfliteType::Bool:
            return 1;
        case TfliteType::Int64:
            return 8;
        case TfliteType::Other:
            break;
    }
    return 0;
}

struct VectorRef {
    uint64_t first = 0;  // position of element 0
    uint32_t count = 0;
};

class Table;

// Bounds-checked access to the file bytes plus the decoded-element budget.
class Reader {
  public:
    Reader(const uint8_t* data, size_t size, const std::string& label)
        : data_(data), size_(size), label_(label), budget_(8 * static_cast<uint64_t>(size) + 4096) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw Error(label_ + ": corrupt TFLite file: " + what);
    }

    void check_range(uint64_t pos, uint64_t bytes, const char* what) const {
        if (pos > size_ || bytes > size_ - pos)
            fail(std::string(what) + " (" + std::to_string(bytes) + " bytes at byte " + std::to_string(pos) +
                 ") runs past the end of the " + std::to_string(size_) + "-byte file");
    }

    template <class T>
    T scalar(uint64_t pos, const char* what) const {
        check_range(pos, sizeof(T), what);
        T value;
        std::memcpy(&value, data_ + pos, sizeof(T));
        return value;
    }

    // Follows the u32 offset stored at `pos` (relative to `pos`).
    uint64_t follow(uint64_t pos, const char* what) const {
        const uint64_t target = pos + scalar<uint32_t>(pos, what);
        check_range(target, 4, what);
        return target;
    }

    // Every decoded element (shape entry, name byte, table, ...) is charged here; see the file comment.
    void charge(uint64_t elements) {
        if (elements > budget_) fail("shared tables would decode to more elements than the file can hold");
        budget_ -= elements;
    }

    VectorRef vector_at(uint64_t pos, size_t element_bytes, const char* what) {
        VectorRef v;
        v.count = scalar<uint32_t>(pos, what);
        v.first = pos + 4;
        check_range(v.first, static_cast<uint64_t>(v.count) * element_bytes, what);
        charge(v.count);
        return v;
    }

    template <class T>
    std::vector<T> read_vector(const VectorRef& v) const {
        std::vector<T> out(v.count);
        if (v.count)
            std::memcpy(out.data(), data_ + v.first, v.count * sizeof(T));  // range checked in vector_at
        return out;
    }

    std::string string_at(uint64_t pos, const char* what) {
        const uint32_t length = scalar<uint32_t>(pos, what);
        check_range(pos + 4, static_cast<uint64_t>(length) + 1, what);  // + the NUL terminator
        if (data_[pos + 4 + length] != 0)
            fail(std::string(what) + " at byte " + std::to_string(pos) + " lacks its NUL");
        charge(length);
        return std::string(reinterpret_cast<const char*>(data_ + pos + 4), length);
    }

    Table table_at(uint64_t pos, const char* what);
    Table table_in(const VectorRef& v, uint32_t index, const char* what);

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }

  private:
    const uint8_t* data_;
    size_t size_;
    const std::string& label_;
    uint64_t budget_;
};

// One table: field lookups by slot number, each checked against the vtable and the table's extent.
class Table {
  public:
    Table(Reader& reader, uint64_t pos, const char* what) : r_(&reader), pos_(pos), what_(what) {
        const int64_t soffset = r_->scalar<int32_t>(pos, what);
        const int64_t vtable = static_cast<int64_t>(pos) - soffset;
        if (vtable < 0)
            r_->fail(std::string(what) + " at byte " + std::to_string(pos) + ": vtable before file start");
        vtable_ = static_cast<uint64_t>(vtable);
        vtable_bytes_ = r_->scalar<uint16_t>(vtable_, what);
        table_bytes_ = r_->scalar<uint16_t>(vtable_ + 2, what);
        if (vtable_bytes_ < 4 || vtable_bytes_ % 2 != 0 || table_bytes_ < 4)
            r_->fail(std::string(what) + " at byte " + std::to_string(pos) + ": malformed vtable");
        r_->check_range(vtable_, vtable_bytes_, what);
        r_->check_range(pos, table_bytes_, what);
        r_->charge(1);
    }

    // Position of the field in `slot` that is `bytes` wide, or nullopt when the field is absent.
    std::optional<uint64_t> field(int slot, size_t bytes) const {
        const uint64_t entry = 4 + 2 * static_cast<uint64_t>(slot);
        if (entry + 2 > vtable_bytes_) return std::nullopt;
        const uint16_t offset = r_->scalar<uint16_t>(vtable_ + entry, what_);
        if (offset == 0) return std::nullopt;
        if (offset < 4 || offset + bytes > table_bytes_)
            r_->fail(std::string(what_) + " at byte " + std::to_string(pos_) + ": field " +
                     std::to_string(slot) + " lies outside its table");
        return pos_ + offset;
    }

    template <class T>
    T get(int slot, T fallback) const {
        const auto at = field(slot, sizeof(T));
        return at ? r_->scalar<T>(*at, what_) : fallback;
    }

    std::optional<Table> table(int slot, const char* what) const {
        const auto at = field(slot, 4);
        if (!at) return std::nullopt;
        return Table(*r_, r_->follow(*at, what), what);
    }

    VectorRef vector(int slot, size_t element_bytes, const char* what) const {
        const auto at = field(slot, 4);
        return at ? r_->vector_at(r_->follow(*at, what), element_bytes, what) : VectorRef{};
    }

    template <class T>
    std::vector<T> scalars(int slot, const char* what) const {
        return r_->read_vector<T>(vector(slot, sizeof(T), what));
    }

    std::string string(int slot, const char* what) const {
        const auto at = field(slot, 4);
        return at ? r_->string_at(r_->follow(*at, what), what) : std::string();
    }

  private:
    Reader* r_;
    uint64_t pos_;
    const char* what_;
    uint64_t vtable_ = 0;
    uint16_t vtable_bytes_ = 0, table_bytes_ = 0;
};

Table Reader::table_at(uint64_t pos, const char* what) {
    return Table(*this, pos, what);
}

Table Reader::table_in(const VectorRef& v, uint32_t index, const char* what) {
    return table_at(follow(v.first + 4 * static_cast<uint64_t>(index), what), what);
}

std::string index_message(const char* kind, size_t index, const char* field, int64_t value, size_t limit) {
    return std::string(kind) + " " + std::to_string(index) + ": " + field + " " + std::to_string(value) +
           " is out of range (" + std::to_string(limit) + " available)";
}

// Buffer table: data:[ubyte] (0), offset:ulong (1), size:ulong (2). A buffer stored outside the
// flatbuffer (models over 2 GB) has offset > 1, relative to the start of the file.
std::pair<const uint8_t*, size_t> parse_buffer(Reader& r, Table buffer) {
    const uint64_t offset = buffer.get<uint64_t>(1, 0);
    if (offset > 1) {
        const uint64_t size = buffer.get<uint64_t>(2, 0);
        r.check_range(offset, size, "external buffer");
        return {size ? r.data() + offset : nullptr, static_cast<size_t>(size)};
    }
    const VectorRef data = buffer.vector(0, 1, "buffer data");
    if (data.count == 0) return {nullptr, 0};
    return {r.data() + data.first, data.count};
}

// OperatorCode table: deprecated_builtin_code:byte (0), custom_code:string (1), version (2),
// builtin_code:int (3). The effective code is the larger of the two code fields.
std::string parse_operator_code(Reader& r, Table code, size_t index) {
    const int32_t builtin = std::max<int32_t>(code.get<int8_t>(0, 0), code.get<int32_t>(3, 0));
    if (builtin < 0) r.fail("operator code " + std::to_string(index) + " is negative");
    if (builtin == kBuiltinCustom) return "CUSTOM:" + code.string(1, "custom code");
    if (builtin < static_cast<int32_t>(std::size(kBuiltinNames))) return kBuiltinNames[builtin];
    return "BUILTIN_" + std::to_string(builtin);
}

// Tensor table: shape (0), type (1), buffer (2), name (3), quantization (4).
// QuantizationParameters: min (0), max (1), scale (2), zero_point (3), details union (4, 5),
// quantized_dimension (6).
TfliteTensor parse_tensor(Reader& r, Table table, size_t index, size_t buffer_count) {
    TfliteTensor t;
    t.shape = table.scalars<int32_t>(0, "tensor shape");
    t.type = type_from_code(table.get<int8_t>(1, 0));
    const uint32_t buffer = table.get<uint32_t>(2, 0);
    if (buffer != 0 && buffer >= buffer_count)
        r.fail(index_message("tensor", index, "buffer", buffer, buffer_count));
    t.buffer = static_cast<int>(buffer);
    t.name = table.string(3, "tensor name");
    if (const auto quant = table.table(4, "quantization parameters")) {
        t.quant.scale = quant->scalars<float>(2, "quantization scales");
        t.quant.zero_point = quant->scalars<int64_t>(3, "quantization zero points");
        t.quant.quantized_dimension = quant->get<int32_t>(6, 0);
    }
    return t;
}

std::string activation_name(Reader& r, int8_t code, size_t op_index) {
    if (code < 0 || code >= static_cast<int8_t>(std::size(kActivationNames)))
        r.fail("operator " + std::to_string(op_index) + ": unknown fused activation " + std::to_string(code));
    return kActivationNames[code];
}

TfliteOperator::Padding padding_from(Reader& r, int8_t code, size_t op_index) {
    if (code != 0 && code != 1)
        r.fail("operator " + std::to_string(op_index) + ": unknown padding " + std::to_string(code));
    return code == 0 ? TfliteOperator::Padding::Same : TfliteOperator::Padding::Valid;
}

// Decodes the option table of union type `type` into `op`. Slot numbers per table in schema.fbs.
void parse_options(Reader& r, uint8_t type, const Table& o, TfliteOperator& op, size_t index) {
    switch (type) {
        case kConv2DOptions:  // padding, stride_w, stride_h, activation, dilation_w, dilation_h
            op.padding = padding_from(r, o.get<int8_t>(0, 0), index);
            op.stride_w = o.get<int32_t>(1, 0);
            op.stride_h = o.get<int32_t>(2, 0);
            op.fused_activation = activation_name(r, o.get<int8_t>(3, 0), index);
            op.dilation_w = o.get<int32_t>(4, 1);
            op.dilation_h = o.get<int32_t>(5, 1);
            break;
        case kDepthwiseConv2DOptions:  // padding, stride_w, stride_h, multiplier, activation, dilations
            op.padding = padding_from(r, o.get<int8_t>(0, 0), index);
            op.stride_w = o.get<int32_t>(1, 0);
            op.stride_h = o.get<int32_t>(2, 0);
            op.depth_multiplier = o.get<int32_t>(3, 0);
            op.fused_activation = activation_name(r, o.get<int8_t>(4, 0), index);
            op.dilation_w = o.get<int32_t>(5, 1);
            op.dilation_h = o.get<int32_t>(6, 1);
            break;
        case kPool2DOptions:  // padding, stride_w, stride_h, filter_width, filter_height, activation
            op.padding = padding_from(r, o.get<int8_t>(0, 0), index);
            op.stride_w = o.get<int32_t>(1, 0);
            op.stride_h = o.get<int32_t>(2, 0);
            op.filter_w = o.get<int32_t>(3, 0);
            op.filter_h = o.get<int32_t>(4, 0);
            op.fused_activation = activation_name(r, o.get<int8_t>(5, 0), index);
            if (op.filter_w < 1 || op.filter_h < 1)
                r.fail("operator " + std::to_string(index) + ": pool filter < 1");
            break;
        case kConcatenationOptions:  // axis, activation
            op.axis = o.get<int32_t>(0, 0);
            op.fused_activation = activation_name(r, o.get<int8_t>(1, 0), index);
            break;
        case kFullyConnectedOptions:  // activation first, like the element-wise tables
        case kAddOptions:
        case kSubOptions:
        case kMulOptions:
        case kDivOptions:
            op.fused_activation = activation_name(r, o.get<int8_t>(0, 0), index);
            break;
        case kResizeBilinearOptions:  // new_height, new_width (deprecated), align_corners, half_pixel_centers
            op.align_corners = o.get<uint8_t>(2, 0) != 0;
            op.half_pixel_centers = o.get<uint8_t>(3, 0) != 0;
            break;
        case kResizeNearestNeighborOptions:  // align_corners, half_pixel_centers
            op.align_corners = o.get<uint8_t>(0, 0) != 0;
            op.half_pixel_centers = o.get<uint8_t>(1, 0) != 0;
            break;
        case kReducerOptions:  // keep_dims
            op.keep_dims = o.get<uint8_t>(0, 0) != 0;
            break;
        case kLeakyReluOptions:  // alpha
            op.alpha = o.get<float>(0, 0.f);
            break;
        case kMirrorPadOptions: {  // mode: REFLECT = 0, SYMMETRIC = 1
            const int8_t mode = o.get<int8_t>(0, 0);
            if (mode != 0 && mode != 1)
                r.fail("operator " + std::to_string(index) + ": unknown mirror pad mode");
            op.mirror_pad_mode = mode == 0 ? "REFLECT" : "SYMMETRIC";
            break;
        }
        default:
            break;  // option tables we do not need are left undecoded
    }
    if (type == kConv2DOptions || type == kDepthwiseConv2DOptions || type == kPool2DOptions) {
        if (op.stride_w < 1 || op.stride_h < 1 || op.dilation_w < 1 || op.dilation_h < 1)
            r.fail("operator " + std::to_string(index) + " (" + op.op + "): stride or dilation < 1");
    }
}

// Operator table: opcode_index (0), inputs (1), outputs (2), builtin_options_type (3), builtin_options (4).
TfliteOperator parse_operator(Reader& r, Table table, size_t index, const std::vector<std::string>& op_names,
                              size_t tensor_count) {
    TfliteOperator op;
    const uint32_t code = table.get<uint32_t>(0, 0);
    if (code >= op_names.size())
        r.fail(index_message("operator", index, "opcode_index", code, op_names.size()));
    op.op = op_names[code];
    op.inputs = table.scalars<int32_t>(1, "operator inputs");
    op.outputs = table.scalars<int32_t>(2, "operator outputs");
    for (int32_t t : op.inputs)
        if (t < -1 || t >= static_cast<int64_t>(tensor_count))
            r.fail(index_message("operator", index, "input tensor", t, tensor_count));
    for (int32_t t : op.outputs)
        if (t < 0 || t >= static_cast<int64_t>(tensor_count))
            r.fail(index_message("operator", index, "output tensor", t, tensor_count));

    const uint8_t options_type = table.get<uint8_t>(3, 0);
    const auto options = table.table(4, "builtin options");
    if (!options) return op;
    const OptionsType expected = expected_options(op.op);
    if (expected != kNoOptions && options_type != expected)
        r.fail("operator " + std::to_string(index) + " (" + op.op + ") carries option table type " +
               std::to_string(options_type) + " instead of " + std::to_string(expected));
    parse_options(r, options_type, *options, op, index);
    return op;
}

std::vector<int32_t> graph_endpoints(Reader& r, const Table& subgraph, int slot, const char* what,
                                     size_t tensor_count) {
    std::vector<int32_t> indices = subgraph.scalars<int32_t>(slot, what);
    for (size_t i = 0; i < indices.size(); ++i)
        if (indices[i] < 0 || indices[i] >= static_cast<int64_t>(tensor_count))
            r.fail(index_message(what, i, "tensor", indices[i], tensor_count));
    return indices;
}

template <class T>
T load(const uint8_t* bytes, uint64_t index) {
    T value;
    std::memcpy(&value, bytes + index * sizeof(T), sizeof(T));
    return value;
}

// real = scale[c] * (q - zero_point[c]) for integer payloads, where channel c of element i is
// (i / inner) % channels along quantized_dimension; a plain conversion when the tensor has no scales.
// Validates that the scales and zero points fit the shape.
class Dequantizer {
  public:
    Dequantizer(const TfliteTensor& t, const std::string& named)
        : scale_(t.quant.scale), zero_(t.quant.zero_point) {
        if (scale_.size() > 1) {
            const int dim = t.quant.quantized_dimension;
            if (dim < 0 || static_cast<size_t>(dim) >= t.shape.size() ||
                static_cast<size_t>(t.shape[dim]) != scale_.size())
                throw Error(named + ": " + std::to_string(scale_.size()) + " scales do not match dimension " +
                            std::to_string(dim) + " of shape " + shape_string(t.shape));
            channels_ = scale_.size();
            for (size_t k = dim + 1; k < t.shape.size(); ++k) inner_ *= static_cast<uint64_t>(t.shape[k]);
        }
        if (!scale_.empty() && zero_.size() > 1 && zero_.size() != scale_.size())
            throw Error(named + ": " + std::to_string(zero_.size()) + " zero points for " +
                        std::to_string(scale_.size()) + " scales");
    }

    // Double arithmetic: a hostile zero point near INT64_MIN must not overflow an integer subtraction.
    float operator()(double q, uint64_t index) const {
        if (scale_.empty()) return static_cast<float>(q);
        const size_t c = channels_ > 1 ? static_cast<size_t>((index / inner_) % channels_) : 0;
        const double zero = zero_.empty() ? 0.0 : static_cast<double>(zero_[zero_.size() == 1 ? 0 : c]);
        return static_cast<float>(static_cast<double>(scale_[c]) * (q - zero));
    }

  private:
    const std::vector<float>& scale_;
    const std::vector<int64_t>& zero_;
    uint64_t channels_ = 1, inner_ = 1;
};

template <class T>
void integers_to_float(const uint8_t* bytes, const Dequantizer& dq, std::vector<float>& out) {
    for (uint64_t i = 0; i < out.size(); ++i) out[i] = dq(static_cast<double>(load<T>(bytes, i)), i);
}

}  // namespace

const char* tflite_type_name(TfliteType type) {
    switch (type) {
        case TfliteType::Float32:
            return "FLOAT32";
        case TfliteType::Float16:
            return "FLOAT16";
        case TfliteType::Int32:
            return "INT32";
        case TfliteType::UInt8:
            return "UINT8";
        case TfliteType::Int64:
            return "INT64";
        case TfliteType::Int8:
            return "INT8";
        case TfliteType::Int16:
            return "INT16";
        case TfliteType::Bool:
            return "BOOL";
        case TfliteType::Other:
            break;
    }
    return "OTHER";
}

// Model table: version (0), operator_codes (1), subgraphs (2), description (3), buffers (4).
// SubGraph table: tensors (0), inputs (1), outputs (2), operators (3), name (4).
TfliteModel parse_tflite(const uint8_t* data, size_t size, const std::string& label) {
    if (data == nullptr || size < 8)
        throw Error(label + ": not a TFLite file (" + std::to_string(size) + " bytes, too short)");
    if (std::memcmp(data + 4, "TFL3", 4) != 0)
        throw Error(label + ": not a TFLite file (file identifier is not \"TFL3\")");

    Reader r(data, size, label);
    Table root = r.table_at(r.follow(0, "root table offset"), "model");
    TfliteModel m;
    m.label = label;
    m.version = static_cast<int>(root.get<uint32_t>(0, 0));
    m.description = root.string(3, "model description");

    const VectorRef buffers = root.vector(4, 4, "buffers");
    m.buffers.reserve(buffers.count);
    for (uint32_t i = 0; i < buffers.count; ++i)
        m.buffers.push_back(parse_buffer(r, r.table_in(buffers, i, "buffer")));

    const VectorRef codes = root.vector(1, 4, "operator codes");
    std::vector<std::string> op_names;
    op_names.reserve(codes.count);
    for (uint32_t i = 0; i < codes.count; ++i)
        op_names.push_back(parse_operator_code(r, r.table_in(codes, i, "operator code"), i));

    const VectorRef subgraphs = root.vector(2, 4, "subgraphs");
    if (subgraphs.count == 0) r.fail("the model has no subgraph");
    Table graph = r.table_in(subgraphs, 0, "subgraph");

    const VectorRef tensors = graph.vector(0, 4, "tensors");
    m.tensors.reserve(tensors.count);
    for (uint32_t i = 0; i < tensors.count; ++i)
        m.tensors.push_back(parse_tensor(r, r.table_in(tensors, i, "tensor"), i, m.buffers.size()));
    m.inputs = graph_endpoints(r, graph, 1, "subgraph input", m.tensors.size());
    m.outputs = graph_endpoints(r, graph, 2, "subgraph output", m.tensors.size());

    const VectorRef operators = graph.vector(3, 4, "operators");
    m.operators.reserve(operators.count);
    for (uint32_t i = 0; i < operators.count; ++i)
        m.operators.push_back(
            parse_operator(r, r.table_in(operators, i, "operator"), i, op_names, m.tensors.size()));
    return m;
}

std::vector<float> TfliteModel::tensor_as_float(int tensor_index) const {
    const std::string where = label + ": tensor " + std::to_string(tensor_index);
    if (tensor_index < 0 || static_cast<size_t>(tensor_index) >= tensors.size())
        throw Error(where + " does not exist (" + std::to_string(tensors.size()) + " tensors)");
    const TfliteTensor& t = tensors[tensor_index];
    const std::string named = where + " '" + t.name + "'";
    const size_t element_bytes = element_size(t.type);
    if (element_bytes == 0) throw Error(named + ": element type cannot be converted to float");
    if (t.buffer < 0 || (t.buffer != 0 && static_cast<size_t>(t.buffer) >= buffers.size()))
        throw Error(named + ": buffer index " + std::to_string(t.buffer) + " out of range");
    const auto [bytes, byte_count] =
        t.buffer == 0 ? std::pair<const uint8_t*, size_t>{nullptr, 0} : buffers[t.buffer];

    // Element count, stopping as soon as it exceeds what the payload could hold (no overflow).
    const uint64_t max_count = byte_count / element_bytes;
    uint64_t count = 1;
    bool fits = true;
    for (int32_t d : t.shape) {
        if (d < 0) throw Error(named + ": negative dimension in shape " + shape_string(t.shape));
        if (d != 0 && count > max_count / static_cast<uint64_t>(d)) fits = false;
        count = fits ? count * static_cast<uint64_t>(d) : count;
    }
    if (!fits || count * element_bytes != byte_count)
        throw Error(named + ": payload of " + std::to_string(byte_count) + " bytes does not match shape " +
                    shape_string(t.shape) + " of " + tflite_type_name(t.type));

    std::vector<float> out(count);
    switch (t.type) {
        case TfliteType::Float32:
            if (count) std::memcpy(out.data(), bytes, byte_count);
            return out;
        case TfliteType::Float16:
            for (uint64_t i = 0; i < count; ++i) out[i] = half_to_float(load<uint16_t>(bytes, i));
            return out;
        case TfliteType::Bool:
            for (uint64_t i = 0; i < count; ++i) out[i] = bytes[i] ? 1.f : 0.f;
            return out;
        default:
            break;
    }
    const Dequantizer dq(t, named);
    switch (t.type) {
        case TfliteType::Int32:
            integers_to_float<int32_t>(bytes, dq, out);
            break;
        case TfliteType::Int64:
            integers_to_float<int64_t>(bytes, dq, out);
            break;
        case TfliteType::Int16:
            integers_to_float<int16_t>(bytes, dq, out);
            break;
        case TfliteType::Int8:
            integers_to_float<int8_t>(bytes, dq, out);
            break;
        case TfliteType::UInt8:
            integers_to_float<uint8_t>(bytes, dq, out);
            break;
        default:
            break;  // float types returned above, Other rejected above
    }
    return out;
}

}  // namespace animegan::weights
