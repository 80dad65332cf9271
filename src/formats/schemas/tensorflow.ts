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

message MetaGraphDef {
  GraphDef graph_def = 2;
}

message SavedModel {
  int64 saved_model_schema_version = 1;
  repeated MetaGraphDef meta_graphs = 2;
}
`;

export interface NodeDef { name: string; op: string }
export interface FunctionDef { signature?: { name: string } | null; node_def: NodeDef[] }
export interface GraphDef { node: NodeDef[]; library?: { function: FunctionDef[] } | null }
export interface SavedModel { meta_graphs: { graph_def?: GraphDef | null }[] }

export const tensorflowTypes = lazyTypes(SCHEMA, ["tensorflow.SavedModel"] as const);
