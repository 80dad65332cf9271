/**
 * The subset of TensorFlow's saved_model.proto, meta_graph.proto, graph.proto, node_def.proto and
 * function.proto that modelgate reads, with the official field numbers; everything else (attrs,
 * signatures, the object graph) is skipped by the decoder.
 */
import { lazyTypes } from "./protobuf.js";

const SCHEMA = `
syntax = "proto3";
package tensorflow;

message NodeDef {
  string name = 1;
  string op = 2;
}

message OpDef {
  string name = 1;
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

message MetaGraphDef {
  GraphDef graph_def = 2;
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

export interface NodeDef { name: string; op: string }
export interface FunctionDef { signature?: { name: string } | null; node_def: NodeDef[] }
export interface GraphDef { node: NodeDef[]; library?: { function: FunctionDef[] } | null }
export interface SavedObjectGraph { nodes: { user_object?: { identifier: string; metadata: string } | null }[] }
export interface SavedModel { meta_graphs: { graph_def?: GraphDef | null; object_graph_def?: SavedObjectGraph | null }[] }
export interface KerasSavedMetadata { nodes: { node_path: string; identifier: string; metadata: string }[] }

export const tensorflowTypes = lazyTypes(SCHEMA, ["tensorflow.SavedModel", "tensorflow.KerasSavedMetadata"] as const);
