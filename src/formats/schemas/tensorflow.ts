/**
 * The subset of TensorFlow's saved_model.proto, meta_graph.proto, graph.proto, node_def.proto and
 * function.proto that modelgate reads, with the official field numbers; everything else (attrs,
 * signatures, most of the object graph) is skipped by the decoder. The text-format reader
 * (savedModelText.ts) builds the same shapes from saved_model.pbtxt.
 */
import { lazyTypes } from "./protobuf.js";

const SCHEMA = `
syntax = "proto3";
package tensorflow;

message NodeDef {
  string name = 1;
  string op = 2;
  repeated string input = 3;
}

message ArgDef {
  string name = 1;
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

message SavedObject {
  SavedUserObject user_object = 4;
}

message SavedObjectGraph {
  repeated SavedObject nodes = 1;
}

// The tensors the loader feeds: the checkpoint prefix (SaverDef) and, in TF1 graphs, asset paths.
message SaverDef {
  string filename_tensor_name = 1;
}

message TensorInfo {
  string name = 1;
}

message AssetFileDef {
  TensorInfo tensor_info = 1;
}

message MetaGraphDef {
  GraphDef graph_def = 2;
  SaverDef saver_def = 3;
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

export interface NodeDef { name: string; op: string; input: string[] }
export interface FunctionDef { signature?: { name: string; input_arg: { name: string }[] } | null; node_def: NodeDef[] }
export interface GraphDef { node: NodeDef[]; library?: { function: FunctionDef[] } | null }
export interface SavedObjectGraph { nodes: { user_object?: { identifier: string; metadata: string } | null }[] }
export interface MetaGraphDef {
  graph_def?: GraphDef | null;
  saver_def?: { filename_tensor_name: string } | null;
  asset_file_def: { tensor_info?: { name: string } | null }[];
  object_graph_def?: SavedObjectGraph | null;
}
export interface SavedModel { meta_graphs: MetaGraphDef[] }
export interface KerasSavedMetadata { nodes: { node_path: string; identifier: string; metadata: string }[] }

export const tensorflowTypes = lazyTypes(SCHEMA, ["tensorflow.SavedModel", "tensorflow.KerasSavedMetadata"] as const);
