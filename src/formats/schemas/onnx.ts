/**
 * The subset of onnx.proto (IR v10) that modelgate reads, with the official field numbers; every
 * other field (tensor data, types, docs) is skipped by the decoder. proto2 syntax like the original.
 */
import type protobuf from "protobufjs";
import { lazyTypes } from "./protobuf.js";

const SCHEMA = `
syntax = "proto2";
package onnx;

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}

message TensorProto {
  enum DataLocation { DEFAULT = 0; EXTERNAL = 1; }
  optional string name = 8;
  repeated StringStringEntryProto external_data = 13;
  optional DataLocation data_location = 14;
}

message SparseTensorProto {
  optional TensorProto values = 1;
  optional TensorProto indices = 2;
}

message AttributeProto {
  optional string name = 1;
  optional int32 type = 20;
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  optional SparseTensorProto sparse_tensor = 22;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
  repeated SparseTensorProto sparse_tensors = 23;
}

message NodeProto {
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  repeated SparseTensorProto sparse_initializer = 15;
}

message TrainingInfoProto {
  optional GraphProto initialization = 1;
  optional GraphProto algorithm = 2;
}

message FunctionProto {
  optional string name = 1;
  repeated NodeProto node = 7;
  repeated OperatorSetIdProto opset_import = 9;
  optional string domain = 10;
  repeated AttributeProto attribute_proto = 11;
}

message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
  repeated TrainingInfoProto training_info = 20;
  repeated FunctionProto functions = 25;
}
`;

/** Decoded shapes (protobufjs fills absent strings with "" and absent repeated fields with []). */
export interface StringStringEntry { key: string; value: string }
export interface Tensor { name: string; external_data: StringStringEntry[]; data_location: number }
export interface SparseTensor { values?: Tensor | null; indices?: Tensor | null }
export interface Attribute {
  name: string;
  t?: Tensor | null;
  g?: Graph | null;
  sparse_tensor?: SparseTensor | null;
  tensors: Tensor[];
  graphs: Graph[];
  sparse_tensors: SparseTensor[];
}
export interface Node { name: string; op_type: string; domain: string; attribute: Attribute[] }
export interface Graph { node: Node[]; name: string; initializer: Tensor[]; sparse_initializer: SparseTensor[] }
export interface OnnxFunction { name: string; domain: string; node: Node[]; attribute_proto: Attribute[] }
export interface Model {
  ir_version: number | protobuf.Long;
  producer_name: string;
  graph?: Graph | null;
  training_info: { initialization?: Graph | null; algorithm?: Graph | null }[];
  functions: OnnxFunction[];
}

export const DATA_LOCATION_EXTERNAL = 1;

export const onnxTypes = lazyTypes(SCHEMA, ["onnx.ModelProto"] as const);
