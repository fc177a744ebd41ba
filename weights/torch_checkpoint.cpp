#include "weights/torch_checkpoint.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "animegan/error.h"
#include "weights/float16.h"
#include "weights/zip_reader.h"

namespace animegan::weights {

namespace {

// Limits against hostile files. A real AnimeGANv2 state dict has ~2M parameters and a pickle of a few
// thousand objects, so these are orders of magnitude above any genuine checkpoint.
constexpr size_t kMaxObjects = size_t(1) << 20;     // objects the pickle may create
constexpr size_t kMaxStackDepth = size_t(1) << 20;  // values plus marks on the stack
constexpr size_t kMaxMemoEntries = size_t(1) << 20;
constexpr size_t kMaxDims = 64;
// Total output elements (1 GiB of f32). Stride-0 views can make a tensor larger than its storage, so this
// cap, not the file size, is what bounds the allocation.
constexpr uint64_t kMaxTotalElements = uint64_t(1) << 28;

// Pickle opcodes (names as in CPython's Lib/pickletools.py) that torch.save emits for a state dict.
// clang-format off
enum Opcode : uint8_t {
    kProto = 0x80, kFrame = 0x95, kStop = '.', kMark = '(',
    kEmptyDict = '}', kEmptyList = ']', kEmptyTuple = ')', kTuple = 't', kTuple1 = 0x85, kTuple2 = 0x86,
    kTuple3 = 0x87, kSetItem = 's', kSetItems = 'u', kAppend = 'a', kAppends = 'e',
    kBinUnicode = 'X', kShortBinUnicode = 0x8c, kBinUnicode8 = 0x8d, kBinString = 'T', kShortBinString = 'U',
    kBinInt = 'J', kBinInt1 = 'K', kBinInt2 = 'M', kLong1 = 0x8a, kBinFloat = 'G',
    kNewTrue = 0x88, kNewFalse = 0x89, kNone = 'N',
    kBinPut = 'q', kLongBinPut = 'r', kMemoize = 0x94, kBinGet = 'h', kLongBinGet = 'j',
    kGlobal = 'c', kStackGlobal = 0x93, kReduce = 'R', kBuild = 'b', kBinPersId = 'Q'
};
// clang-format on

enum class Kind { None, Bool, Int, Float, String, Tuple, List, Dict, Global, Storage, Tensor };

// Storage types other than float/half are recognised so the error can name the offending tensor.
enum class GlobalId { OrderedDict, RebuildTensorV2, RebuildParameter, StorageType };
enum class DType { Float32, Float16, Unsupported };

// One unpickled value. Objects live in the unpickler's arena and refer to each other by raw pointer, so
// self-referencing containers a hostile pickle can build via the memo neither leak nor recurse on delete.
struct Object {
    Kind kind = Kind::None;
    int64_t integer = 0;  // Int/Bool value; Storage: element count; Tensor: storage offset
    std::string text;     // String value; Global: "module.name"; Storage: key of its data entry
    GlobalId global = GlobalId::OrderedDict;           // Global
    DType dtype = DType::Unsupported;                  // Global of kind StorageType
    std::vector<Object*> items;                        // Tuple, List
    std::vector<std::pair<Object*, Object*>> entries;  // Dict, in insertion order
    const Object* storage_type = nullptr;              // Storage: its StorageType global
    const Object* storage = nullptr;                   // Tensor: its Storage
    std::vector<int64_t> shape, stride;                // Tensor
};

// The allow-list: the only globals a checkpoint may name. Nothing is ever imported or called; each name just
// becomes a tag that REDUCE and BINPERSID understand.
struct AllowedGlobal {
    const char* module;
    const char* name;
    GlobalId id;
    DType dtype;  // for storage types
};
constexpr AllowedGlobal kAllowedGlobals[] = {
    {"collections", "OrderedDict", GlobalId::OrderedDict, DType::Unsupported},
    {"torch._utils", "_rebuild_tensor_v2", GlobalId::RebuildTensorV2, DType::Unsupported},
    {"torch._utils", "_rebuild_parameter", GlobalId::RebuildParameter, DType::Unsupported},
    {"torch", "FloatStorage", GlobalId::StorageType, DType::Float32},
    {"torch", "HalfStorage", GlobalId::StorageType, DType::Float16},
    {"torch", "DoubleStorage", GlobalId::StorageType, DType::Unsupported},
    {"torch", "BFloat16Storage", GlobalId::StorageType, DType::Unsupported},
    {"torch", "LongStorage", GlobalId::StorageType, DType::Unsupported},
    {"torch", "IntStorage", GlobalId::StorageType, DType::Unsupported},
    {"torch", "ShortStorage", GlobalId::StorageType, DType::Unsupported},
    {"torch", "CharStorage", GlobalId::StorageType, DType::Unsupported},
    {"torch", "ByteStorage", GlobalId::StorageType, DType::Unsupported},
    {"torch", "BoolStorage", GlobalId::StorageType, DType::Unsupported},
};

// Interprets the subset of pickle that torch.save uses. It builds plain data only: the few allowed
// "calls" (OrderedDict(), _rebuild_tensor_v2(...), _rebuild_parameter(...)) are recognised by name and
// turned into Dict/Tensor objects.
class Unpickler {
  public:
    Unpickler(ByteSpan pickle, std::string label) : bytes_(pickle), label_(std::move(label)) {}

    // Runs to the STOP opcode and returns the pickled root object.
    const Object* run() {
        for (;;) {
            op_offset_ = pos_;
            const uint8_t op = read_u8();
            if (op == kStop) return pop();
            step(op);
        }
    }

  private:
    void step(uint8_t op) {
        switch (op) {
            case kProto: {
                const uint8_t version = read_u8();
                if (version < 2 || version > 5)
                    fail("unsupported pickle protocol " + std::to_string(version));
                return;
            }
            case kFrame:  // framing only groups opcodes for buffered reading; the opcodes follow inline
                take(8);
                return;
            case kEmptyDict:
                return push(make(Kind::Dict));
            case kEmptyList:
                return push(make(Kind::List));
            case kEmptyTuple:
                return push(make(Kind::Tuple));
            case kMark:
                if (stack_.size() + marks_.size() >= kMaxStackDepth) fail("pickle stack is too deep");
                return marks_.push_back(stack_.size());
            case kTuple:
                return push(make_tuple(pop_to_mark()));
            case kTuple1:
            case kTuple2:
            case kTuple3:
                return push_tuple(size_t(op - kTuple1) + 1);
            case kSetItem: {
                Object* value = pop();
                Object* key = pop();
                top_of_kind(Kind::Dict, "SETITEM")->entries.emplace_back(key, value);
                return;
            }
            case kSetItems: {
                const std::vector<Object*> items = pop_to_mark();
                if (items.size() % 2 != 0) fail("SETITEMS with an odd number of items");
                Object* dict = top_of_kind(Kind::Dict, "SETITEMS");
                for (size_t i = 0; i < items.size(); i += 2)
                    dict->entries.emplace_back(items[i], items[i + 1]);
                return;
            }
            case kAppend: {
                Object* value = pop();
                return top_of_kind(Kind::List, "APPEND")->items.push_back(value);
            }
            case kAppends: {
                const std::vector<Object*> items = pop_to_mark();
                Object* list = top_of_kind(Kind::List, "APPENDS");
                list->items.insert(list->items.end(), items.begin(), items.end());
                return;
            }
            case kBinUnicode:
                return push_string(read_le(4));
            case kShortBinUnicode:
            case kShortBinString:
                return push_string(read_u8());
            case kBinUnicode8:
                return push_string(read_le(8));
            case kBinString: {
                const int32_t length = int32_t(uint32_t(read_le(4)));
                if (length < 0) fail("negative string length");
                return push_string(uint64_t(length));
            }
            case kBinInt:
                return push_int(int32_t(uint32_t(read_le(4))));
            case kBinInt1:
                return push_int(read_u8());
            case kBinInt2:
                return push_int(int64_t(read_le(2)));
            case kLong1:
                return push_int(read_long1());
            case kBinFloat:  // floats only occur in values that are skipped, so the value is not kept
                take(8);
                return push(make(Kind::Float));
            case kNewTrue:
            case kNewFalse: {
                Object* flag = make(Kind::Bool);
                flag->integer = op == kNewTrue;
                return push(flag);
            }
            case kNone:
                return push(make(Kind::None));
            case kBinPut:
                return memo_put(read_u8());
            case kLongBinPut:
                return memo_put(read_le(4));
            case kMemoize:
                return memo_put(memo_.size());
            case kBinGet:
                return push(memo_get(read_u8()));
            case kLongBinGet:
                return push(memo_get(read_le(4)));
            case kGlobal: {
                const std::string module = read_line();
                return push(resolve_global(module, read_line()));
            }
            case kStackGlobal: {
                const Object* name = pop();
                const Object* module = pop();
                if (module->kind != Kind::String || name->kind != Kind::String) {
                    fail("STACK_GLOBAL operands are not strings");
                }
                return push(resolve_global(module->text, name->text));
            }
            case kReduce: {
                const Object* args = pop();
                return push(reduce(*pop(), *args));
            }
            case kBuild: {
                // BUILD sets attributes (OrderedDict._metadata, Parameter state), never dict items or tensor
                // data, so the state is dropped.
                pop();
                const Object* target = top();
                if (target->kind != Kind::Dict && target->kind != Kind::Tensor) {
                    fail("BUILD on an object that is not a dict or tensor");
                }
                return;
            }
            case kBinPersId:
                return push(persistent_load(*pop()));
            default: {
                static const char kDigits[] = "0123456789abcdef";
                fail(std::string("unsupported pickle opcode 0x") + kDigits[op >> 4] + kDigits[op & 15]);
            }
        }
    }

    [[noreturn]] void fail(const std::string& what) const {
        throw Error(label_ + ": data.pkl: " + what + " (at pickle offset " + std::to_string(op_offset_) +
                    ")");
    }

    // Input: every read is checked against the bytes that remain.
    const uint8_t* take(uint64_t count) {
        if (count > bytes_.size - pos_) fail("pickle is truncated");
        const uint8_t* start = bytes_.data + pos_;
        pos_ += size_t(count);
        return start;
    }
    uint8_t read_u8() { return *take(1); }
    uint64_t read_le(int count) {
        const uint8_t* p = take(uint64_t(count));
        uint64_t value = 0;
        for (int i = 0; i < count; ++i) value |= uint64_t(p[i]) << (8 * i);
        return value;
    }
    std::string read_line() {
        const uint8_t* start = bytes_.data + pos_;
        const void* newline = std::memchr(start, '\n', bytes_.size - pos_);
        if (!newline) fail("GLOBAL name is not terminated");
        const size_t length = size_t(static_cast<const uint8_t*>(newline) - start);
        take(length + 1);
        return std::string(reinterpret_cast<const char*>(start), length);
    }
    // LONG1: a little-endian two's complement integer of n bytes; torch only needs ones that fit 64 bits.
    int64_t read_long1() {
        const uint8_t count = read_u8();
        if (count > 8) fail("integer wider than 64 bits");
        if (count == 0) return 0;
        uint64_t value = read_le(count);
        if (count < 8 && (value >> (8 * count - 1)) & 1) value |= ~uint64_t(0) << (8 * count);
        return int64_t(value);
    }

    // Objects and the stack.
    Object* make(Kind kind) {
        if (arena_.size() >= kMaxObjects) fail("pickle creates too many objects");
        arena_.emplace_back();
        arena_.back().kind = kind;
        return &arena_.back();
    }
    size_t mark_floor() const { return marks_.empty() ? 0 : marks_.back(); }
    void push(Object* object) {
        if (stack_.size() + marks_.size() >= kMaxStackDepth) fail("pickle stack is too deep");
        stack_.push_back(object);
    }
    Object* top() const {
        if (stack_.size() <= mark_floor()) fail("pickle stack underflow");
        return stack_.back();
    }
    Object* pop() {
        Object* object = top();
        stack_.pop_back();
        return object;
    }
    Object* top_of_kind(Kind kind, const char* opcode) const {
        Object* object = top();
        if (object->kind != kind) fail(std::string(opcode) + " applied to the wrong kind of object");
        return object;
    }
    std::vector<Object*> pop_to_mark() {
        if (marks_.empty()) fail("missing MARK");
        const size_t mark = marks_.back();
        marks_.pop_back();
        std::vector<Object*> items(stack_.begin() + std::ptrdiff_t(mark), stack_.end());
        stack_.resize(mark);
        return items;
    }
    Object* make_tuple(std::vector<Object*> items) {
        Object* tuple = make(Kind::Tuple);
        tuple->items = std::move(items);
        return tuple;
    }
    void push_tuple(size_t count) {
        std::vector<Object*> items(count);
        for (size_t i = count; i-- > 0;) items[i] = pop();
        push(make_tuple(std::move(items)));
    }
    void push_string(uint64_t length) {
        const uint8_t* start = take(length);
        Object* text = make(Kind::String);
        text->text.assign(reinterpret_cast<const char*>(start), size_t(length));
        push(text);
    }
    void push_int(int64_t value) {
        Object* number = make(Kind::Int);
        number->integer = value;
        push(number);
    }
    void memo_put(uint64_t index) {
        Object* object = top();
        if (memo_.size() >= kMaxMemoEntries && memo_.count(index) == 0) fail("pickle memo is too large");
        memo_[index] = object;
    }
    Object* memo_get(uint64_t index) {
        auto it = memo_.find(index);
        if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " is not defined");
        return it->second;
    }

    Object* resolve_global(const std::string& module, const std::string& name) {
        for (const AllowedGlobal& allowed : kAllowedGlobals) {
            if (module != allowed.module || name != allowed.name) continue;
            Object* global = make(Kind::Global);
            global->text = module + "." + name;
            global->global = allowed.id;
            global->dtype = allowed.dtype;
            return global;
        }
        const bool torchscript = module.compare(0, 9, "__torch__") == 0;
        fail("unsupported global " + quote_for_message(module + "." + name) +
             (torchscript ? " (TorchScript archives are not supported; save the state_dict() instead)"
                          : " (only plain state dicts of tensors can be read)"));
    }

    Object* reduce(const Object& callable, const Object& args) {
        if (callable.kind != Kind::Global || args.kind != Kind::Tuple)
            fail("REDUCE needs a global and a tuple");
        const std::vector<Object*>& a = args.items;
        switch (callable.global) {
            case GlobalId::OrderedDict:
                if (!a.empty()) fail("OrderedDict() called with arguments");
                return make(Kind::Dict);
            case GlobalId::RebuildParameter:
                // _rebuild_parameter(tensor, requires_grad, backward_hooks): a parameter is its tensor.
                if (a.size() != 3 || a[0]->kind != Kind::Tensor) fail("malformed _rebuild_parameter call");
                return a[0];
            case GlobalId::RebuildTensorV2:
                return rebuild_tensor(a);
            case GlobalId::StorageType:
                break;
        }
        fail("storage type " + quote_for_message(callable.text) + " called like a function");
    }

    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).
    // Only the types are checked here; sizes are checked against the storage when the data is copied.
    Object* rebuild_tensor(const std::vector<Object*>& a) {
        if (a.size() != 6 && a.size() != 7)
            fail("_rebuild_tensor_v2 called with the wrong number of arguments");
        if (a[0]->kind != Kind::Storage || a[1]->kind != Kind::Int || a[2]->kind != Kind::Tuple ||
            a[3]->kind != Kind::Tuple) {
            fail("_rebuild_tensor_v2 called with arguments of the wrong type");
        }
        Object* tensor = make(Kind::Tensor);
        tensor->storage = a[0];
        tensor->integer = a[1]->integer;
        for (const Object* size : a[2]->items) {
            if (size->kind != Kind::Int) fail("tensor size is not an integer");
            tensor->shape.push_back(size->integer);
        }
        for (const Object* stride : a[3]->items) {
            if (stride->kind != Kind::Int) fail("tensor stride is not an integer");
            tensor->stride.push_back(stride->integer);
        }
        return tensor;
    }

    // torch.save's persistent id: ('storage', storage_type, key, location, numel).
    Object* persistent_load(const Object& id) {
        const std::vector<Object*>& f = id.items;
        if (id.kind != Kind::Tuple || f.size() != 5 || f[0]->kind != Kind::String ||
            f[0]->text != "storage" || f[1]->kind != Kind::Global || f[1]->global != GlobalId::StorageType ||
            f[2]->kind != Kind::String || f[4]->kind != Kind::Int || f[4]->integer < 0) {
            fail("malformed persistent id (expected ('storage', type, key, location, numel))");
        }
        Object* storage = make(Kind::Storage);
        storage->storage_type = f[1];
        storage->text = f[2]->text;
        storage->integer = f[4]->integer;
        return storage;
    }

    ByteSpan bytes_;
    size_t pos_ = 0;
    size_t op_offset_ = 0;
    std::string label_;
    std::deque<Object> arena_;  // a deque never moves its elements, so Object* stay valid
    std::vector<Object*> stack_;
    std::vector<size_t> marks_;  // stack heights at each MARK; pops never go below the innermost one
    std::unordered_map<uint64_t, Object*> memo_;
};

bool holds_tensor(const Object& dict) {
    for (const auto& entry : dict.entries) {
        if (entry.second->kind == Kind::Tensor) return true;
    }
    return false;
}

// The state dict is the root dict if it holds tensors itself, else its single dict value that does.
const Object& select_state_dict(const Object& root, const std::string& label) {
    if (root.kind != Kind::Dict) throw Error(label + ": the pickled object is not a dict");
    if (holds_tensor(root)) return root;
    const Object* found = nullptr;
    size_t candidates = 0;
    std::string names;
    for (const auto& entry : root.entries) {
        const Object& value = *entry.second;
        if (value.kind != Kind::Dict || !holds_tensor(value)) continue;
        found = &value;
        if (++candidates > 3) continue;  // a few names are enough to explain the ambiguity
        names +=
            (names.empty() ? "" : ", ") +
            (entry.first->kind == Kind::String ? quote_for_message(entry.first->text) : "<non-string key>");
    }
    if (candidates == 0) throw Error(label + ": no tensors found (expected a state dict of tensors)");
    if (candidates > 1) {
        throw Error(label + ": several nested dicts hold tensors (" + names +
                    "); cannot tell which is the state dict");
    }
    return *found;
}

// Adds a*b to `sum`; false if the result would not fit in 64 bits.
bool add_product(uint64_t& sum, uint64_t a, uint64_t b) {
    if (a != 0 && b > UINT64_MAX / a) return false;
    if (a * b > UINT64_MAX - sum) return false;
    sum += a * b;
    return true;
}

float load_element(const uint8_t* storage, uint64_t index, DType dtype) {
    if (dtype == DType::Float16) {
        const uint8_t* p = storage + 2 * index;
        return half_to_float(uint16_t(p[0] | (p[1] << 8)));
    }
    const uint8_t* p = storage + 4 * index;
    const uint32_t bits =
        uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

// Copies one tensor (any view: offset, strides, including 0) into a contiguous f32 TorchTensor, after
// checking that every element it addresses lies within its storage entry.
TorchTensor convert_tensor(const std::string& name, const Object& tensor, const ZipReader& zip,
                           const std::string& prefix, const std::string& label, uint64_t& total_elements) {
    const std::string where = label + ": tensor " + quote_for_message(name);
    const Object& storage = *tensor.storage;
    const DType dtype = storage.storage_type->dtype;
    if (dtype == DType::Unsupported) {
        throw Error(where + " is stored as " + storage.storage_type->text +
                    "; only FloatStorage and HalfStorage are supported");
    }
    const size_t dims = tensor.shape.size();
    if (dims != tensor.stride.size()) throw Error(where + " has different numbers of sizes and strides");
    if (dims > kMaxDims) throw Error(where + " has too many dimensions");
    if (tensor.integer < 0) throw Error(where + " has a negative storage offset");

    uint64_t numel = 1;
    for (size_t d = 0; d < dims; ++d) {
        if (tensor.shape[d] < 0 || tensor.stride[d] < 0)
            throw Error(where + " has a negative size or stride");
        if (tensor.shape[d] == 0) numel = 0;
    }
    TorchTensor out;
    out.name = name;
    out.shape = tensor.shape;
    out.source_was_half = dtype == DType::Float16;
    if (numel == 0) return out;

    // numel and the furthest element index, both overflow-checked.
    uint64_t last_index = uint64_t(tensor.integer);
    for (size_t d = 0; d < dims; ++d) {
        const uint64_t size = uint64_t(tensor.shape[d]);
        if (size > kMaxTotalElements / numel) throw Error(where + " has too many elements");
        numel *= size;
        if (!add_product(last_index, size - 1, uint64_t(tensor.stride[d]))) {
            throw Error(where + " addresses elements beyond any storage");
        }
    }
    if (numel > kMaxTotalElements - total_elements) {
        throw Error(label + ": checkpoint holds more than " + std::to_string(kMaxTotalElements) +
                    " elements");
    }
    total_elements += numel;

    const uint64_t storage_numel = uint64_t(storage.integer);
    if (last_index >= storage_numel) {
        throw Error(where + " reaches element " + std::to_string(last_index) + " of a storage of " +
                    std::to_string(storage_numel) + " elements");
    }
    const ZipEntry* entry = zip.find(prefix + "data/" + storage.text);
    if (!entry) throw Error(where + ": its storage " + quote_for_message(storage.text) + " is missing");
    const ByteSpan bytes = zip.read(*entry);
    const uint64_t element_size = dtype == DType::Float16 ? 2 : 4;
    if (storage_numel > bytes.size / element_size) {
        throw Error(where + ": storage entry " + quote_for_message(entry->name) + " holds " +
                    std::to_string(bytes.size) + " bytes, too few for " + std::to_string(storage_numel) +
                    " elements");
    }

    // Walk the view in row-major order with an odometer over the indices.
    out.data.resize(size_t(numel));
    std::vector<int64_t> index(dims, 0);
    uint64_t source = uint64_t(tensor.integer);
    for (uint64_t i = 0; i < numel; ++i) {
        out.data[size_t(i)] = load_element(bytes.data, source, dtype);
        for (size_t d = dims; d-- > 0;) {
            if (++index[d] < tensor.shape[d]) {
                source += uint64_t(tensor.stride[d]);
                break;
            }
            source -= uint64_t(tensor.stride[d]) * uint64_t(tensor.shape[d] - 1);
            index[d] = 0;
        }
    }
    return out;
}

}  // namespace

std::vector<TorchTensor> read_torch_checkpoint_bytes(const uint8_t* data, size_t size,
                                                     const std::string& label) {
    const ZipReader zip(data, size, label);

    // The archive's top folder varies (the file's stem, or "archive"); it is whatever holds data.pkl.
    const ZipEntry* pickle_entry = nullptr;
    std::string prefix;
    for (const ZipEntry& entry : zip.entries()) {
        const size_t slash = entry.name.find('/');
        const bool top_level = slash == std::string::npos || slash == entry.name.rfind('/');
        const std::string leaf = slash == std::string::npos ? entry.name : entry.name.substr(slash + 1);
        if (!top_level || leaf != "data.pkl") continue;
        if (pickle_entry) throw Error(label + ": archive holds more than one data.pkl");
        pickle_entry = &entry;
        prefix = entry.name.substr(0, entry.name.size() - leaf.size());
    }
    if (!pickle_entry) throw Error(label + ": no data.pkl in the archive (not a torch.save() checkpoint)");

    // Newer torch versions record the byte order of the storages; absent means little-endian.
    if (const ZipEntry* order_entry = zip.find(prefix + "byteorder")) {
        const ByteSpan order = zip.read(*order_entry);
        const std::string value(reinterpret_cast<const char*>(order.data), order.size);
        if (value == "big") throw Error(label + ": big-endian checkpoints are not supported");
        if (value != "little") throw Error(label + ": unknown byteorder " + quote_for_message(value));
    }

    Unpickler unpickler(zip.read(*pickle_entry), label);
    const Object& state_dict = select_state_dict(*unpickler.run(), label);

    std::vector<TorchTensor> tensors;
    std::unordered_set<std::string> seen;
    uint64_t total_elements = 0;
    for (const auto& entry : state_dict.entries) {
        if (entry.second->kind != Kind::Tensor) continue;
        if (entry.first->kind != Kind::String) throw Error(label + ": a tensor has a non-string key");
        const std::string& name = entry.first->text;
        if (!seen.insert(name).second) throw Error(label + ": duplicate key " + quote_for_message(name));
        tensors.push_back(convert_tensor(name, *entry.second, zip, prefix, label, total_elements));
    }
    return tensors;
}

std::vector<TorchTensor> read_torch_checkpoint(const std::string& path) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!file) throw Error(path + ": cannot open file (" + std::strerror(errno) + ")");
    std::vector<uint8_t> bytes;
    uint8_t chunk[1 << 16];
    size_t got;
    while ((got = std::fread(chunk, 1, sizeof chunk, file.get())) > 0)
        bytes.insert(bytes.end(), chunk, chunk + got);
    if (std::ferror(file.get())) throw Error(path + ": cannot read file (" + std::strerror(errno) + ")");
    return read_torch_checkpoint_bytes(bytes.data(), bytes.size(), path);
}

}  // namespace animegan::weights
