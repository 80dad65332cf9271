/**
 * The subset of TensorFlow's saved_model.proto, meta_graph.proto, graph.proto, node_def.proto and
 * function.proto that modelgate reads, with the official field numbers; everything else (most
 * attrs, signatures, most of the object graph) is skipped by the decoder. The text-format reader
 * (savedModelText.ts) builds the same shapes from saved_model.pbtxt.
 */
import { lazyTypes } from "./protobuf.js";

const SCHEMA = `
syntax = "proto3";
package tensorflow;

// attr_value.proto, only what names a function (who calls what) or a variable (shared_name). Maps
// are spelled as the repeated key/value entries they are on the wire: every entry is seen, even a
// repeated key, and wireDifferential walks them as the messages they are.
message AttrEntry {
  string key = 1;
  AttrValue value = 2;
}

message NameAttrList {
  string name = 1;
  repeated AttrEntry attr = 2;
}

message AttrValue {
  message ListValue {
    repeated bytes s = 2;
    repeated NameAttrList func = 9;
  }
  ListValue list = 1;
  bytes s = 2;
  TensorProto tensor = 8;
  NameAttrList func = 10;
}

// tensor.proto and tensor_shape.proto: a Const's value (what a saver joins to its path). TensorFlow
// takes it from tensor_content whenever that is non-empty, strings included, else from the typed
// field (string_val); dtype and shape say how many values there are. dtype is the DataType enum,
// read as its number.
message TensorShapeProto {
  message Dim {
    int64 size = 1;
  }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}

message TensorProto {
  int32 dtype = 1;
  TensorShapeProto tensor_shape = 2;
  bytes tensor_content = 4;
  repeated bytes string_val = 8;
}

message NodeDef {
  string name = 1;
  string op = 2;
  repeated string input = 3;
  repeated AttrEntry attr = 5;
}

// op_def.proto: an argument with number_attr or type_list_attr takes a list of inputs.
message ArgDef {
  string name = 1;
  string number_attr = 5;
  string type_list_attr = 6;
}

message OpDef {
  string name = 1;
  repeated ArgDef input_arg = 2;
}

message FunctionDef {
  OpDef signature = 1;
  repeated NodeDef node_def = 3;
}

message FunctionDefLibrary {
  repeated FunctionDef function = 1;
}

message GraphDef {
  repeated NodeDef node = 1;
  FunctionDefLibrary library = 2;
}

// saved_object_graph.proto: Keras (TF 2.0–2.4) kept each layer's config as JSON in
// SavedUserObject.metadata.
message SavedUserObject {
  string identifier = 1;
  string metadata = 3;
}

// Only its presence is read: every asset_file_def filename is checked whichever object names it.
message SavedAsset {}

// trackable_object_graph.proto: an object's named edge to another (a child or a dependency).
message ObjectReference {
  int32 node_id = 1;
  string local_name = 2;
}

// struct.proto: the nested Python values TF2 saves a function's signature and defaults as. Every
// kind of the oneof is named, so that a value holding two (protobuf keeps the last) is seen as such;
// the content of the spec and tensor kinds is not read.
message StructuredValue {
  NoneValue none_value = 1;
  double float64_value = 11;
  sint64 int64_value = 12;
  string string_value = 13;
  bool bool_value = 14;
  TensorShapeProto tensor_shape_value = 31;
  int32 tensor_dtype_value = 32;
  TensorSpecProto tensor_spec_value = 33;
  TypeSpecProto type_spec_value = 34;
  BoundedTensorSpecProto bounded_tensor_spec_value = 35;
  ListValue list_value = 51;
  TupleValue tuple_value = 52;
  DictValue dict_value = 53;
  NamedTupleValue named_tuple_value = 54;
  TensorProto tensor_value = 55;
  TensorProto numpy_value = 56;
}

message NoneValue {}
message TensorSpecProto {}
message TypeSpecProto {}
message BoundedTensorSpecProto {}

message ListValue {
  repeated StructuredValue values = 1;
}

message TupleValue {
  repeated StructuredValue values = 1;
}

message PairValue {
  string key = 1;
  StructuredValue value = 2;
}

// map<string, StructuredValue> fields = 1, as its entries.
message DictValue {
  repeated PairValue fields = 1;
}

message NamedTupleValue {
  string name = 1;
  repeated PairValue values = 2;
}

// A tf.function's Python signature: fullargspec holds the defaults TF2's loader fills in for an
// argument the caller leaves out.
message FunctionSpec {
  StructuredValue fullargspec = 1;
  bool is_method = 2;
}

// The concrete functions an object hands out: who calls them, with what, is read from where it sits.
message SavedFunction {
  repeated string concrete_functions = 1;
  FunctionSpec function_spec = 2;
}

message SavedBareConcreteFunction {
  string concrete_function_name = 1;
  FunctionSpec function_spec = 4;
}

// Objects (function objects) the loader calls to save and restore checkpoint values.
message SaveableObject {
  int32 save_function = 2;
  int32 restore_function = 3;
}

message SaveableObjectEntry {
  string key = 1;
  SaveableObject value = 2;
}

message SavedObject {
  repeated ObjectReference children = 1;
  SavedUserObject user_object = 4;
  SavedAsset asset = 5;
  SavedFunction function = 6;
  SavedBareConcreteFunction bare_concrete_function = 8;
  repeated SaveableObjectEntry saveable_objects = 11;
  repeated ObjectReference dependencies = 15;
}

// The objects TF2's loader binds to a function's trailing (captured) arguments, and the Python
// structure its other arguments were traced from.
message SavedConcreteFunction {
  repeated int32 bound_inputs = 2;
  StructuredValue canonicalized_input_signature = 3;
}

message ConcreteFunctionEntry {
  string key = 1;
  SavedConcreteFunction value = 2;
}

message SavedObjectGraph {
  repeated SavedObject nodes = 1;
  repeated ConcreteFunctionEntry concrete_functions = 2;
}

// What TF1 loaders run and feed: the saver's restore op fed its filename tensor (SaverDef), the
// main op (a collection, or the __saved_model_init_op signature) fed the asset tensors, and each
// signature's outputs fed its inputs.
message SaverDef {
  string filename_tensor_name = 1;
  string save_tensor_name = 2;
  string restore_op_name = 3;
}

// A sparse or composite tensor is several graph tensors, each named.
message TensorInfo {
  message CooSparse {
    string values_tensor_name = 1;
    string indices_tensor_name = 2;
    string dense_shape_tensor_name = 3;
  }
  message CompositeTensor {
    repeated TensorInfo components = 2;
  }
  string name = 1;
  CooSparse coo_sparse = 4;
  CompositeTensor composite_tensor = 5;
}

message TensorInfoEntry {
  string key = 1;
  TensorInfo value = 2;
}

// Only which inputs have one: a default is a value the SavedModel supplies, not the caller.
message DefaultEntry {
  string key = 1;
}

message SignatureDef {
  repeated TensorInfoEntry inputs = 1;
  repeated TensorInfoEntry outputs = 2;
  repeated DefaultEntry defaults = 4;
}

message SignatureDefEntry {
  string key = 1;
  SignatureDef value = 2;
}

// TF1's builder lists assets in collection saved_model_assets, each an AssetFileDef packed in an Any
// (unpacked from its bytes by the analysis, only there).
message Any {
  string type_url = 1;
  bytes value = 2;
}

message CollectionDef {
  message NodeList {
    repeated string value = 1;
  }
  message AnyList {
    repeated Any value = 1;
  }
  NodeList node_list = 1;
  AnyList any_list = 5;
}

message CollectionDefEntry {
  string key = 1;
  CollectionDef value = 2;
}

message AssetFileDef {
  TensorInfo tensor_info = 1;
  string filename = 2;
}

message MetaGraphDef {
  GraphDef graph_def = 2;
  SaverDef saver_def = 3;
  repeated CollectionDefEntry collection_def = 4;
  repeated SignatureDefEntry signature_def = 5;
  repeated AssetFileDef asset_file_def = 6;
  SavedObjectGraph object_graph_def = 7;
}

message SavedModel {
  int64 saved_model_schema_version = 1;
  repeated MetaGraphDef meta_graphs = 2;
}

// keras_metadata.pb (Keras 2.5+ beside saved_model.pb): saved_metadata.proto's SavedMetadata and
// SavedObject, renamed here so they do not clash with TensorFlow's SavedObject.
message KerasSavedObject {
  int32 node_id = 2;
  string node_path = 3;
  string identifier = 4;
  string metadata = 5;
}

message KerasSavedMetadata {
  repeated KerasSavedObject nodes = 1;
}
`;

/** Bytes from the binary form, text from saved_model.pbtxt. */
export type AttrBytes = Uint8Array | string;
export interface AttrEntry { key: string; value?: AttrValue | null }
export interface NameAttrList { name: string; attr: AttrEntry[] }
/** An int64 as protobufjs decodes it (a Long when the long package is there), or a number from the text form. */
export type Int64 = number | { toString(): string };
/** DataType, as its number; NaN for a text spelling not read. */
export type DataType = number;
export interface TensorShape { dim: { size: Int64 }[]; unknown_rank: boolean }
export interface TensorValue {
  dtype: DataType;
  tensor_shape?: TensorShape | null;
  tensor_content: AttrBytes;
  string_val: AttrBytes[];
}
export interface AttrValue {
  list?: { s: AttrBytes[]; func: NameAttrList[] } | null;
  s?: AttrBytes | null;
  tensor?: TensorValue | null;
  func?: NameAttrList | null;
}
export interface NodeDef { name: string; op: string; input: string[]; attr: AttrEntry[] }
export interface ArgDef { name: string; number_attr: string; type_list_attr: string }
export interface FunctionDef { signature?: { name: string; input_arg: ArgDef[] } | null; node_def: NodeDef[] }
export interface GraphDef { node: NodeDef[]; library?: { function: FunctionDef[] } | null }
export interface ObjectReference { node_id: number; local_name: string }
/**
 * A StructuredValue: a oneof, so at most one kind is present (an own property, as protobufjs
 * decodes and the text reader builds it); the spec and tensor kinds only by their presence.
 */
export interface StructuredValue {
  none_value?: object | null;
  float64_value?: number | string;
  int64_value?: Int64;
  string_value?: string;
  bool_value?: boolean | string;
  tensor_shape_value?: object | null;
  tensor_dtype_value?: DataType;
  tensor_spec_value?: object | null;
  type_spec_value?: object | null;
  bounded_tensor_spec_value?: object | null;
  list_value?: { values: StructuredValue[] } | null;
  tuple_value?: { values: StructuredValue[] } | null;
  dict_value?: { fields: StructuredPair[] } | null;
  named_tuple_value?: { name: string; values: StructuredPair[] } | null;
  tensor_value?: object | null;
  numpy_value?: object | null;
}
export interface StructuredPair { key: string; value?: StructuredValue | null }
export interface FunctionSpec { fullargspec?: StructuredValue | null; is_method: boolean }
export interface SavedObject {
  children: ObjectReference[];
  dependencies: ObjectReference[];
  user_object?: { identifier: string; metadata: string } | null;
  asset?: object | null;
  function?: { concrete_functions: string[]; function_spec?: FunctionSpec | null } | null;
  bare_concrete_function?: { concrete_function_name: string; function_spec?: FunctionSpec | null } | null;
  saveable_objects: { key: string; value?: { save_function: number; restore_function: number } | null }[];
}
export interface SavedConcreteFunction { bound_inputs: number[]; canonicalized_input_signature?: StructuredValue | null }
export interface SavedObjectGraph {
  nodes: SavedObject[];
  concrete_functions: { key: string; value?: SavedConcreteFunction | null }[];
}
export interface TensorInfo {
  name: string;
  coo_sparse?: { values_tensor_name: string; indices_tensor_name: string; dense_shape_tensor_name: string } | null;
  composite_tensor?: { components: TensorInfo[] } | null;
}
export interface TensorInfoEntry { key: string; value?: TensorInfo | null }
export interface CollectionDef {
  node_list?: { value: string[] } | null;
  any_list?: { value: { type_url: string; value: AttrBytes }[] } | null;
}
export interface AssetFileDef { tensor_info?: TensorInfo | null; filename: string }
export interface SignatureDef { inputs: TensorInfoEntry[]; outputs: TensorInfoEntry[]; defaults: { key: string }[] }
export interface MetaGraphDef {
  graph_def?: GraphDef | null;
  saver_def?: { filename_tensor_name: string; save_tensor_name: string; restore_op_name: string } | null;
  collection_def: { key: string; value?: CollectionDef | null }[];
  signature_def: { key: string; value?: SignatureDef | null }[];
  asset_file_def: AssetFileDef[];
  object_graph_def?: SavedObjectGraph | null;
}
export interface SavedModel { meta_graphs: MetaGraphDef[] }
export interface KerasSavedMetadata { nodes: { node_path: string; identifier: string; metadata: string }[] }

export const tensorflowTypes = lazyTypes(SCHEMA, ["tensorflow.SavedModel", "tensorflow.KerasSavedMetadata", "tensorflow.AssetFileDef"] as const);
