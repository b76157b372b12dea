#include "io/pickle.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <unordered_map>

#include "core/error.h"

namespace rave::io {
namespace {

// The subset of Python's pickle values a state dict is made of. Values live in the Unpickler's arena and point
// at each other with plain pointers: a crafted pickle can nest containers as deep as its length allows (a 400 KB
// file: 200,000 levels) or make a list contain itself through the memo, and owning pointers would then release
// them recursively until the stack overflows, or never release the cycle. The arena frees every value at once.
struct Value;
using ValuePtr = Value*;
struct Value {
  enum class Kind { None, Bool, Int, Float, String, Tuple, List, Dict, Global, Storage, Tensor };
  Kind kind = Kind::None;
  int64_t integer = 0;  // Bool, Int; Tensor: storage offset
  double real = 0;      // Float
  std::string text;     // String; Global: "module.name"; Storage: its key
  std::vector<ValuePtr> items;                            // Tuple, List; Tensor: its storage
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;     // Dict, in insertion order
  torch::Tensor tensor;                                   // Storage (flat)
  std::vector<int64_t> size, stride;                      // Tensor

  Value() = default;
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;
};

const char* kind_name(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::None: return "None";
    case Value::Kind::Bool: return "bool";
    case Value::Kind::Int: return "int";
    case Value::Kind::Float: return "float";
    case Value::Kind::String: return "str";
    case Value::Kind::Tuple: return "tuple";
    case Value::Kind::List: return "list";
    case Value::Kind::Dict: return "dict";
    case Value::Kind::Global: return "global";
    case Value::Kind::Storage: return "storage";
    case Value::Kind::Tensor: return "tensor";
  }
  return "?";
}

// The callables torch.save needs for a dict of tensors; nothing else may be named by GLOBAL.
constexpr const char* kOrderedDict = "collections.OrderedDict";
constexpr const char* kRebuildTensor = "torch._utils._rebuild_tensor_v2";
const std::map<std::string, torch::ScalarType>& storage_types() {
  static const std::map<std::string, torch::ScalarType> types = {
      {"torch.FloatStorage", torch::kFloat32}, {"torch.DoubleStorage", torch::kFloat64},
      {"torch.HalfStorage", torch::kFloat16},  {"torch.BFloat16Storage", torch::kBFloat16},
      {"torch.LongStorage", torch::kInt64},    {"torch.IntStorage", torch::kInt32},
      {"torch.ShortStorage", torch::kInt16},   {"torch.CharStorage", torch::kInt8},
      {"torch.ByteStorage", torch::kUInt8},    {"torch.BoolStorage", torch::kBool}};
  return types;
}

// Pickle opcodes (Python's Lib/pickletools.py), protocols 2 and 4.
enum Op : uint8_t {
  PROTO = 0x80, FRAME = 0x95, STOP = '.', MARK = '(', POP = '0', POP_MARK = '1', NONE = 'N', NEWTRUE = 0x88,
  NEWFALSE = 0x89, BININT = 'J', BININT1 = 'K', BININT2 = 'M', LONG1 = 0x8a, BINFLOAT = 'G',
  BINUNICODE = 'X', SHORT_BINUNICODE = 0x8c, EMPTY_TUPLE = ')', TUPLE = 't', TUPLE1 = 0x85, TUPLE2 = 0x86,
  TUPLE3 = 0x87, EMPTY_LIST = ']', APPEND = 'a', APPENDS = 'e', EMPTY_DICT = '}', SETITEM = 's',
  SETITEMS = 'u', GLOBAL = 'c', STACK_GLOBAL = 0x93, BINPUT = 'q', LONG_BINPUT = 'r', MEMOIZE = 0x94,
  BINGET = 'h', LONG_BINGET = 'j', REDUCE = 'R', BUILD = 'b', BINPERSID = 'Q',
};

class Unpickler {
 public:
  Unpickler(const std::string& bytes, const StorageLoader& load_storage, const std::string& source)
      : bytes_(bytes), load_storage_(load_storage), source_(source) {}

  ValuePtr run() {
    while (true) {
      const size_t at = position_;
      const uint8_t op = take_byte();
      switch (op) {
        case PROTO: take_byte(); break;
        case FRAME: take(8); break;
        case STOP: return pop();
        case MARK: marks_.push_back(stack_.size()); break;
        case POP: pop(); break;
        case POP_MARK: pop_mark(); break;
        case NONE: push(make(Value::Kind::None)); break;
        case NEWTRUE: push(make_int(Value::Kind::Bool, 1)); break;
        case NEWFALSE: push(make_int(Value::Kind::Bool, 0)); break;
        case BININT: push(make_int(Value::Kind::Int, int32_t(uint32_t(little_endian(4))))); break;
        case BININT1: push(make_int(Value::Kind::Int, int64_t(little_endian(1)))); break;
        case BININT2: push(make_int(Value::Kind::Int, int64_t(little_endian(2)))); break;
        case LONG1: push(make_int(Value::Kind::Int, long1())); break;
        case BINFLOAT: push(binfloat()); break;
        case BINUNICODE: push(make_string(Value::Kind::String, take(little_endian(4)))); break;
        case SHORT_BINUNICODE: push(make_string(Value::Kind::String, take(little_endian(1)))); break;
        case EMPTY_TUPLE: push(make(Value::Kind::Tuple)); break;
        case TUPLE: push(make_sequence(Value::Kind::Tuple, pop_mark())); break;
        case TUPLE1: case TUPLE2: case TUPLE3: push(make_sequence(Value::Kind::Tuple, pop_n(op - TUPLE1 + 1))); break;
        case EMPTY_LIST: push(make(Value::Kind::List)); break;
        case APPEND: append(pop_n(1)); break;
        case APPENDS: append(pop_mark()); break;
        case EMPTY_DICT: push(make(Value::Kind::Dict)); break;
        case SETITEM: set_items(pop_n(2)); break;
        case SETITEMS: set_items(pop_mark()); break;
        case GLOBAL: {
          const std::string module = line();
          push(global(module + "." + line()));
          break;
        }
        case STACK_GLOBAL: {
          const ValuePtr name = pop(), module = pop();
          expect(*module, Value::Kind::String, "STACK_GLOBAL module");
          expect(*name, Value::Kind::String, "STACK_GLOBAL name");
          push(global(module->text + "." + name->text));
          break;
        }
        case BINPUT: memo_[uint32_t(little_endian(1))] = top(); break;
        case LONG_BINPUT: memo_[uint32_t(little_endian(4))] = top(); break;
        case MEMOIZE: memo_[uint32_t(memo_.size())] = top(); break;
        case BINGET: push(memo(uint32_t(little_endian(1)))); break;
        case LONG_BINGET: push(memo(uint32_t(little_endian(4)))); break;
        case REDUCE: {
          const ValuePtr arguments = pop(), callable = pop();
          push(reduce(*callable, *arguments));
          break;
        }
        case BUILD: {
          const ValuePtr state = pop();
          build(*top(), *state);
          break;
        }
        case BINPERSID: push(persistent(*pop())); break;
        default: {
          char hex[8];
          std::snprintf(hex, sizeof hex, "0x%02x", op);
          fail(std::string("unsupported pickle opcode ") + hex + " at byte " + std::to_string(at));
        }
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw IoError(source_ + ": " + what, "only PyTorch state dicts (a dict of tensors) can be imported");
  }

  std::string take(uint64_t count) {
    if (count > bytes_.size() - position_) fail("truncated pickle");
    std::string out = bytes_.substr(position_, count);
    position_ += count;
    return out;
  }
  uint8_t take_byte() { return uint8_t(take(1)[0]); }
  uint64_t little_endian(int width) {
    const std::string raw = take(uint64_t(width));
    uint64_t value = 0;
    for (int i = width - 1; i >= 0; --i) value = (value << 8) | uint8_t(raw[size_t(i)]);
    return value;
  }
  std::string line() {
    const size_t end = bytes_.find('\n', position_);
    if (end == std::string::npos) fail("truncated pickle");
    std::string out = bytes_.substr(position_, end - position_);
    position_ = end + 1;
    return out;
  }
  int64_t long1() {
    const uint64_t width = little_endian(1);
    if (width > 8) fail("integer of " + std::to_string(width) + " bytes is too large");
    if (width == 0) return 0;
    uint64_t value = little_endian(int(width));
    if (width < 8 && (value >> (8 * width - 1)) & 1) value |= ~uint64_t(0) << (8 * width);  // sign-extend
    return int64_t(value);
  }
  ValuePtr binfloat() {
    uint64_t bits = 0;
    for (const char c : take(8)) bits = (bits << 8) | uint8_t(c);  // big-endian IEEE 754
    auto value = make(Value::Kind::Float);
    std::memcpy(&value->real, &bits, sizeof bits);
    return value;
  }

  ValuePtr make(Value::Kind kind) {
    ValuePtr value = &arena_.emplace_back();
    value->kind = kind;
    return value;
  }
  ValuePtr make_int(Value::Kind kind, int64_t integer) {
    auto value = make(kind);
    value->integer = integer;
    return value;
  }
  ValuePtr make_string(Value::Kind kind, std::string text) {
    auto value = make(kind);
    value->text = std::move(text);
    return value;
  }
  ValuePtr make_sequence(Value::Kind kind, std::vector<ValuePtr> items) {
    auto value = make(kind);
    value->items = std::move(items);
    return value;
  }

  void push(ValuePtr value) { stack_.push_back(std::move(value)); }
  const ValuePtr& top() {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) fail("malformed pickle (stack underflow)");
    return stack_.back();
  }
  ValuePtr pop() {
    ValuePtr value = top();
    stack_.pop_back();
    return value;
  }
  std::vector<ValuePtr> pop_n(size_t n) {
    const size_t floor = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() < floor + n) fail("malformed pickle (stack underflow)");
    std::vector<ValuePtr> items(stack_.end() - std::ptrdiff_t(n), stack_.end());
    stack_.resize(stack_.size() - n);
    return items;
  }
  std::vector<ValuePtr> pop_mark() {
    if (marks_.empty()) fail("malformed pickle (no MARK)");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> items(stack_.begin() + std::ptrdiff_t(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }
  ValuePtr memo(uint32_t key) {
    const auto found = memo_.find(key);
    if (found == memo_.end()) fail("malformed pickle (memo " + std::to_string(key) + " unset)");
    return found->second;
  }

  void expect(const Value& value, Value::Kind kind, const std::string& what) const {
    if (value.kind != kind) fail(what + " is a " + kind_name(value.kind) + ", expected " + kind_name(kind));
  }

  void append(const std::vector<ValuePtr>& items) {
    Value& list = *top();
    expect(list, Value::Kind::List, "APPEND target");
    list.items.insert(list.items.end(), items.begin(), items.end());
  }

  void set_items(const std::vector<ValuePtr>& items) {
    Value& dict = *top();
    expect(dict, Value::Kind::Dict, "SETITEM target");
    if (items.size() % 2) fail("malformed pickle (odd SETITEMS)");
    for (size_t i = 0; i < items.size(); i += 2) dict.entries.emplace_back(items[i], items[i + 1]);
  }

  ValuePtr global(const std::string& name) {
    if (name != kOrderedDict && name != kRebuildTensor && !storage_types().count(name)) {
      fail("pickle refers to '" + name + "', which a state dict never needs; refusing to load it");
    }
    return make_string(Value::Kind::Global, name);
  }

  ValuePtr reduce(const Value& callable, const Value& arguments) {
    expect(callable, Value::Kind::Global, "REDUCE callable");
    expect(arguments, Value::Kind::Tuple, "arguments of " + callable.text);
    if (callable.text == kOrderedDict) {
      if (!arguments.items.empty()) fail("OrderedDict built from arguments (only empty ones are supported)");
      return make(Value::Kind::Dict);
    }
    if (callable.text == kRebuildTensor) return rebuild_tensor(arguments.items);
    fail("'" + callable.text + "' is not callable in a state dict");
  }

  std::vector<int64_t> int_tuple(const Value& value, const std::string& what) {
    expect(value, Value::Kind::Tuple, what);
    std::vector<int64_t> out;
    for (const auto& item : value.items) {
      expect(*item, Value::Kind::Int, what + " element");
      if (item->integer < 0) fail(what + " holds a negative value");
      out.push_back(item->integer);
    }
    return out;
  }

  // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).
  ValuePtr rebuild_tensor(const std::vector<ValuePtr>& args) {
    if (args.size() != 6 && args.size() != 7) {
      fail("_rebuild_tensor_v2 with " + std::to_string(args.size()) + " arguments");
    }
    expect(*args[0], Value::Kind::Storage, "tensor storage");
    expect(*args[1], Value::Kind::Int, "tensor storage offset");
    const std::vector<int64_t> size = int_tuple(*args[2], "tensor size");
    const std::vector<int64_t> stride = int_tuple(*args[3], "tensor stride");
    if (size.size() != stride.size()) fail("tensor size and stride differ in length");
    if (args[5]->kind != Value::Kind::Dict || !args[5]->entries.empty()) fail("tensor with backward hooks");
    if (args[1]->integer < 0) fail("tensor with a negative storage offset");
    // Only described here: the tensor is cut from its storage when the state dict names it (tensor_of), so that
    // an inconsistent one is reported under its key.
    auto value = make(Value::Kind::Tensor);
    value->items = {args[0]};
    value->integer = args[1]->integer;
    value->size = size;
    value->stride = stride;
    return value;
  }

  // torch.save's persistent id of a storage: ('storage', <Type>Storage, key, location, numel).
  ValuePtr persistent(const Value& id) {
    expect(id, Value::Kind::Tuple, "persistent id");
    const auto& f = id.items;
    if (f.size() != 5 || f[0]->kind != Value::Kind::String || f[0]->text != "storage") {
      fail("persistent id other than a tensor storage");
    }
    expect(*f[1], Value::Kind::Global, "storage type");
    expect(*f[2], Value::Kind::String, "storage key");
    expect(*f[4], Value::Kind::Int, "storage size");
    if (f[4]->integer < 0) fail("storage '" + f[2]->text + "' of negative size " + std::to_string(f[4]->integer));
    const auto type = storage_types().find(f[1]->text);
    if (type == storage_types().end()) fail("'" + f[1]->text + "' is not a storage type");
    // The location (e.g. "cuda:0") is ignored: storages always load into host memory.
    auto& cached = storages_[f[2]->text];
    if (!cached) {
      cached = make(Value::Kind::Storage);
      cached->text = f[2]->text;
      cached->tensor = load_storage_(f[2]->text, type->second, f[4]->integer);
    }
    if (cached->tensor.scalar_type() != type->second) fail("storage '" + f[2]->text + "' used with two dtypes");
    return cached;
  }

  // torch.save pickles an OrderedDict's attributes (its `_metadata`) through BUILD; they are dropped.
  void build(const Value& object, const Value& state) {
    if (object.kind != Value::Kind::Dict || state.kind != Value::Kind::Dict) {
      fail(std::string("BUILD on a ") + kind_name(object.kind) + " (only a state dict's metadata is accepted)");
    }
  }

  const std::string& bytes_;
  const StorageLoader& load_storage_;
  const std::string& source_;
  size_t position_ = 0;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, ValuePtr> memo_;
  std::map<std::string, ValuePtr> storages_;
  std::deque<Value> arena_;  // every value of the pickle; a deque never moves them
};

// The tensor that `value` describes, copied out of its storage. `name` ("<file>: tensor 'conv1.weight'") begins
// every error. Sizes and strides come from the file, so every product and sum is checked: as_strided checks no
// bounds, and an overflow would wrap to an index inside the storage.
torch::Tensor tensor_of(const Value& value, const std::string& name) {
  const auto fail = [&](const std::string& what) {
    throw IoError(name + " " + what, "the file is corrupt, or was not written by torch.save");
  };
  const Value& storage = *value.items.at(0);
  const int64_t available = storage.tensor.numel();
  const std::string shape = "(size " + c10::str(c10::IntArrayRef(value.size)) + ", stride " +
                            c10::str(c10::IntArrayRef(value.stride)) + ", storage offset " +
                            std::to_string(value.integer) + ")";
  // The element count as if every empty dimension held one element: LibTorch multiplies the sizes even of an
  // empty tensor (for its strides), so they must not overflow either.
  int64_t extent = 1, numel = 1;
  for (const int64_t size : value.size) {
    if (__builtin_mul_overflow(extent, std::max<int64_t>(size, 1), &extent)) fail("has too many elements " + shape);
    numel = size == 0 ? 0 : numel;
  }
  if (numel == 0) return torch::empty(value.size, storage.tensor.options());
  numel = extent;
  // The storage index of the last element; past any int64, it is past the storage too.
  int64_t last = value.integer;
  bool beyond = false;
  for (size_t d = 0; d < value.size.size() && !beyond; ++d) {
    int64_t reach = 0;
    beyond = __builtin_mul_overflow(value.size[d] - 1, value.stride[d], &reach) ||
             __builtin_add_overflow(last, reach, &last);
  }
  if (beyond || last >= available) {
    fail("reaches beyond the end of its storage '" + storage.text + "' of " + std::to_string(available) +
         " elements " + shape);
  }
  // Only strides that revisit elements (an expanded view) make a tensor larger than its storage; a state dict of
  // parameters has none, and copying one could take any amount of memory.
  if (numel > available) {
    fail("has " + std::to_string(numel) + " elements, more than its storage '" + storage.text + "' holds (" +
         std::to_string(available) + ") " + shape);
  }
  return storage.tensor.as_strided(value.size, value.stride, value.integer).clone(torch::MemoryFormat::Contiguous);
}

}  // namespace

NamedTensors unpickle_state_dict(const std::string& bytes, const StorageLoader& load_storage,
                                 const std::string& source) {
  Unpickler unpickler(bytes, load_storage, source);
  const ValuePtr root = unpickler.run();
  const std::string hint = "only PyTorch state dicts (a dict of tensors) can be imported";
  if (root->kind != Value::Kind::Dict) {
    throw IoError(source + ": the pickle holds a " + std::string(kind_name(root->kind)) + ", not a state dict", hint);
  }
  NamedTensors tensors;
  for (const auto& [key, value] : root->entries) {
    if (key->kind != Value::Kind::String) throw IoError(source + ": state dict key is a " + kind_name(key->kind), hint);
    if (value->kind != Value::Kind::Tensor) {
      throw IoError(source + ": state dict entry '" + key->text + "' is a " + kind_name(value->kind) +
                        ", not a tensor", hint);
    }
    tensors.emplace_back(key->text, tensor_of(*value, source + ": tensor '" + key->text + "'"));
  }
  return tensors;
}

}  // namespace rave::io
