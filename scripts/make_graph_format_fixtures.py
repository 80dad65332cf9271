#!/usr/bin/python3
"""Generates the ONNX, TensorFlow SavedModel and TFLite fixtures under test/fixtures/graph-formats/.

Run with Debian's /usr/bin/python3 (apt-get install python3-onnx). Deterministic. ONNX models are
made with the real onnx.helper API; SavedModels are hand-encoded protobuf (no TensorFlow on Debian)
following the official field numbers of saved_model.proto / meta_graph.proto / graph.proto /
function.proto, written here independently of the TypeScript schema; TFLite flatbuffers are laid
out by hand per schema.fbs. Nothing here is ever loaded by a model runtime: the malicious
fixtures only *name* files (/etc/passwd) and ops (ReadFile, PyFunc); they are never run.

The tf_* folders are whole SavedModels written by the real TensorFlow (saved_model.pb, variables/,
assets/), made only with --tensorflow from an environment that has it (no onnx needed):

    /path/to/venv-with-tensorflow/bin/python scripts/make_graph_format_fixtures.py --tensorflow

Each mode rebuilds only its own fixtures and keeps the other's files and manifest entries. The
malicious tf_* fixtures are built, never loaded: saving traces their restore functions without
running them, and their paths name files under /tmp that nothing reads (/tmp/modelgate-fixture-*).
"""
import atexit
import base64
import json
import marshal
import os
import shutil
import struct
import sys
import tempfile

try:
    import onnx
    from onnx import TensorProto, helper
except ImportError:  # a TensorFlow environment building only the tf_* fixtures (--tensorflow)
    onnx = None

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures")
OUT = os.path.join(ROOT, "graph-formats")
manifest = []


def add(rel, expect, threat, mentions, note):
    manifest.append({"file": "graph-formats/" + rel, "expect": expect, "threat": threat, "mentions": mentions, "note": note})


def path(rel):
    p = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


# ---------------------------------------------------------------- ONNX

OPSET = [helper.make_opsetid("", 17)] if onnx else []


def weight(name, external_location=None):
    t = helper.make_tensor(name, TensorProto.FLOAT, [2, 2], [1.0, 0.0, 0.0, 1.0])
    if external_location is not None:
        # What onnx.external_data_helper writes: data moved out, a location entry, the EXTERNAL flag.
        t.ClearField("float_data")
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", external_location), ("offset", "0"), ("length", "16")):
            e = t.external_data.add()
            e.key, e.value = k, v
    return t


def mlp_graph(name="main", w=None, extra_nodes=()):
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h"], name="matmul0"),
        helper.make_node("Relu", ["h"], ["y0"], name="relu0"),
        *extra_nodes,
    ]
    out = "y" if extra_nodes else "y0"
    if not extra_nodes:
        nodes.append(helper.make_node("Identity", ["y0"], ["y"], name="out"))
    return helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
        [w if w is not None else weight("w")],
    )


def save_onnx(rel, model):
    onnx.save_model(model, path(rel))


def if_model(then_w=None, then_extra=None):
    def branch(name, op, w=None, extra=None):
        nodes = [helper.make_node(op, ["x"], [name + "_y"], name=name + "_node")]
        inits = [w] if w is not None else []
        if extra is not None:
            nodes.append(extra)
        return helper.make_graph(nodes, name, [], [helper.make_tensor_value_info(name + "_y", TensorProto.FLOAT, [1, 2])], inits)

    cond = helper.make_tensor("cond", TensorProto.BOOL, [], [True])
    node = helper.make_node("If", ["c"], ["y"], name="branch_on_c",
                            then_branch=branch("then", "Relu", then_w, then_extra), else_branch=branch("else", "Neg"))
    g = helper.make_graph([node], "main", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])], [cond])
    g.input.append(helper.make_tensor_value_info("c", TensorProto.BOOL, []))
    return helper.make_model(g, opset_imports=OPSET, producer_name="modelgate-fixtures")


def onnx_fixtures():
    save_onnx("onnx_mlp.onnx", helper.make_model(mlp_graph(), opset_imports=OPSET, producer_name="modelgate-fixtures"))
    add("onnx_mlp.onnx", "pass", None, [], "onnx.helper MatMul/Relu model with an inline initializer")

    save_onnx("onnx_if_subgraph.onnx", if_model())
    add("onnx_if_subgraph.onnx", "pass", None, [], "onnx.helper model with an If node whose then/else branches are subgraphs")

    fused = helper.make_node("FusedMatMul", ["y0", "w"], ["y"], name="ort_fused", domain="com.microsoft", alpha=1.0)
    save_onnx("onnx_ort_contrib.onnx", helper.make_model(mlp_graph(extra_nodes=[fused]), opset_imports=OPSET + [helper.make_opsetid("com.microsoft", 1)]))
    add("onnx_ort_contrib.onnx", "pass", None, [], "ONNX Runtime contrib op (com.microsoft FusedMatMul): built into onnxruntime, not a custom library")

    fn = helper.make_function("local.fns", "DoubleRelu", ["a"], ["b"],
                              [helper.make_node("Relu", ["a"], ["t"]), helper.make_node("Relu", ["t"], ["b"])], OPSET)
    call = helper.make_node("DoubleRelu", ["y0"], ["y"], name="call_local_fn", domain="local.fns")
    m = helper.make_model(mlp_graph(extra_nodes=[call]), opset_imports=OPSET + [helper.make_opsetid("local.fns", 1)], functions=[fn])
    save_onnx("onnx_local_function.onnx", m)
    add("onnx_local_function.onnx", "pass", None, [], "node in a non-standard domain that is a FunctionProto defined in the model itself (ONNX nodes, no native code)")

    # Real external data, written by onnx itself next to the model.
    raw = helper.make_tensor("w", TensorProto.FLOAT, [2, 2], struct.pack("<4f", 1.0, 0.0, 0.0, 1.0), raw=True)
    m = helper.make_model(mlp_graph(w=raw), opset_imports=OPSET)  # onnx moves only raw_data out
    onnx.save_model(m, path("onnx_external_ok.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="onnx_external_ok.onnx.data", size_threshold=0)
    add("onnx_external_ok.onnx", "pass", None, [], "onnx.save_model(save_as_external_data=True): weights in a sibling file")

    for rel, loc, note in (
        ("onnx_external_traversal.onnx", "../../etc/passwd", "initializer with external_data location ../../etc/passwd (path traversal on load)"),
        ("onnx_external_absolute.onnx", "/etc/passwd", "initializer with an absolute external_data location"),
        ("onnx_external_backslash.onnx", "..\\..\\windows\\win.ini", "external_data location climbing out with Windows separators"),
    ):
        save_onnx(rel, helper.make_model(mlp_graph(w=weight("w", loc)), opset_imports=OPSET))
        add(rel, "block", "O1", [loc], note)

    save_onnx("onnx_external_in_if.onnx", if_model(then_w=weight("hidden_w", "../../../etc/shadow")))
    add("onnx_external_in_if.onnx", "block", "O1", ["../../../etc/shadow", "hidden_w"], "traversing external_data in an initializer of an If then_branch subgraph")

    save_onnx("onnx_external_no_location.onnx", helper.make_model(mlp_graph(w=_external_without_location()), opset_imports=OPSET))
    add("onnx_external_no_location.onnx", "block", "O1", ["w"], "tensor marked data_location=EXTERNAL with no location entry")

    evil = helper.make_node("RunShell", ["y0"], ["y"], name="evil_node", domain="evil.custom")
    save_onnx("onnx_custom_domain.onnx", helper.make_model(mlp_graph(extra_nodes=[evil]), opset_imports=OPSET + [helper.make_opsetid("evil.custom", 1)]))
    add("onnx_custom_domain.onnx", "block", "O2", ["evil.custom", "RunShell", "evil_node"], "node in a custom operator domain (needs a native custom-op library)")

    hidden = helper.make_node("Exfiltrate", ["x"], ["then_z"], name="hidden_custom", domain="org.example.ops")
    m = if_model(then_extra=hidden)
    m.opset_import.append(helper.make_opsetid("org.example.ops", 1))
    save_onnx("onnx_custom_in_if.onnx", m)
    add("onnx_custom_in_if.onnx", "block", "O2", ["org.example.ops", "hidden_custom"], "custom-domain node hidden in an If subgraph")


def _external_without_location():
    t = helper.make_tensor("w", TensorProto.FLOAT, [2, 2], [1.0, 0.0, 0.0, 1.0])
    t.ClearField("float_data")
    t.data_location = TensorProto.EXTERNAL
    return t


# ---------------------------------------------------------------- SavedModel (hand-encoded protobuf)

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def f_varint(field, n):
    return varint(field << 3) + varint(n)


def f_len(field, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def node_def(name, op, *inputs, strings=None):  # NodeDef: name = 1, op = 2, input = 3, attr = 5
    # A Const's string values: attr "value" (AttrEntry key = 1, value = 2), AttrValue.tensor = 8, TensorProto.dtype = 1
    # (DT_STRING = 7, without which TensorFlow refuses the tensor) and string_val = 8
    tensor = f_varint(1, 7) + b"".join(f_len(8, v) for v in strings) if strings else b""
    attr = f_len(5, f_len(1, "value") + f_len(2, f_len(8, tensor))) if strings else b""
    return f_len(1, name) + f_len(2, op) + b"".join(f_len(3, i) for i in inputs) + attr


def node(entry):
    """A node given as (name, op, *inputs), with a dict of keyword fields last when it has any."""
    fields = entry[-1] if isinstance(entry[-1], dict) else {}
    return node_def(*(entry[:-1] if fields else entry), **fields)


def function_def(name, nodes):  # FunctionDef: signature = 1 (OpDef.name = 1), node_def = 3
    return f_len(1, f_len(1, name)) + b"".join(f_len(3, node(n)) for n in nodes)


def saved_model(nodes, functions=(), user_objects=()):
    graph = b"".join(f_len(1, node(n)) for n in nodes)  # GraphDef.node = 1
    if functions:
        graph += f_len(2, b"".join(f_len(1, function_def(n, ns)) for n, ns in functions))  # GraphDef.library = 2, FunctionDefLibrary.function = 1
    meta_info = f_len(4, "serve") + f_len(5, "2.15.0")  # MetaInfoDef.tags = 4, tensorflow_version = 5
    meta = f_len(1, meta_info) + f_len(2, graph)  # MetaGraphDef.meta_info_def = 1, graph_def = 2
    if user_objects:
        # MetaGraphDef.object_graph_def = 7; SavedObjectGraph.nodes = 1; SavedObject.user_object = 4;
        # SavedUserObject.identifier = 1, metadata = 3 (where TF 2.0-2.4 Keras kept layer configs)
        meta += f_len(7, b"".join(f_len(1, f_len(4, f_len(1, ident) + f_len(3, json.dumps(m)))) for ident, m in user_objects))
    return f_varint(1, 1) + f_len(2, meta)  # SavedModel.saved_model_schema_version = 1, meta_graphs = 2


def keras_metadata(layers):
    """keras_metadata.pb: SavedMetadata.nodes = 1; SavedObject.node_id = 2, node_path = 3, identifier = 4, metadata = 5."""
    return b"".join(f_len(1, f_varint(2, i + 1) + f_len(3, path) + f_len(4, ident) + f_len(5, json.dumps(m)))
                    for i, (path, ident, m) in enumerate(layers))


def dense_metadata():
    return {"name": "dense", "trainable": True, "dtype": "float32", "class_name": "Dense",
            "config": {"name": "dense", "units": 4, "activation": "relu", "use_bias": True}}


def lambda_metadata():
    # What tf.keras writes for Lambda(lambda x: ...): base64 of marshal.dumps(code) in a __tuple__.
    code = base64.b64encode(marshal.dumps((lambda x: __import__("os").system("echo modelgate-fixture")).__code__)).decode()
    return {"name": "lambda", "trainable": True, "dtype": "float32", "class_name": "Lambda",
            "config": {"name": "lambda", "function": {"class_name": "__tuple__", "items": [code, None, None]},
                       "function_type": "lambda", "output_shape": None}}


def write_keras_metadata(folder, layers, expect, threat, mentions, note):
    rel = folder + "/keras_metadata.pb"
    with open(path(rel), "wb") as f:
        f.write(keras_metadata(layers))
    add(rel, expect, threat, mentions, note)


# The saver's paths start from its filename placeholder, as TensorFlow builds them, joined to the
# suffix TensorFlow writes as a Const (a constant path, or a suffix that climbs with "..", is MG241).
SAVER = [("saver_filename", "Placeholder"), ("suffix", "Const", {"strings": ["_temp/part"]}),
         ("StringJoin", "StringJoin", "saver_filename:0", "suffix:0"),
         ("ShardedFilename", "ShardedFilename", "StringJoin:0", "num_shards:0", "shard:0"),
         ("SaveV2", "SaveV2", "ShardedFilename:0", "tensor_names:0", "shape_and_slices:0"),
         ("MergeV2Checkpoints", "MergeV2Checkpoints", "ShardedFilename:0", "saver_filename:0"),
         ("RestoreV2", "RestoreV2", "saver_filename:0", "tensor_names:0", "shape_and_slices:0"),
         ("Identity_1", "Identity"), ("NoOp", "NoOp")]
BENIGN_GRAPH = [("x", "Placeholder"), ("w", "Const"), ("dense/MatMul", "MatMul"), ("dense/kernel", "VarHandleOp"),
                ("dense/ReadVariableOp", "ReadVariableOp"), ("StatefulPartitionedCall", "StatefulPartitionedCall")] + SAVER
BENIGN_FN = ("__inference_serving_default_42", [("MatMul", "MatMul"), ("BiasAdd", "BiasAdd"), ("Identity", "Identity")])


def write_saved_model(folder, data, expect, threat, mentions, note):
    rel = folder + "/saved_model.pb"
    with open(path(rel), "wb") as f:
        f.write(data)
    add(rel, expect, threat, mentions, note)


def savedmodel_fixtures():
    write_saved_model("savedmodel_benign", saved_model(BENIGN_GRAPH, [BENIGN_FN, ("__inference_save_fn", SAVER)]), "pass", None, [],
                      "SavedModel with Const/MatMul/variables and the SaveV2/RestoreV2/MergeV2Checkpoints saver every SavedModel has")
    write_saved_model("savedmodel_readfile", saved_model(BENIGN_GRAPH + [("leak/ReadFile", "ReadFile"), ("drop/WriteFile", "WriteFile")], [BENIGN_FN]),
                      "block", "T1", ["ReadFile", "leak/ReadFile", "WriteFile", "drop/WriteFile"], "ReadFile and WriteFile nodes in the main graph")
    write_saved_model("savedmodel_pyfunc_library", saved_model(BENIGN_GRAPH, [BENIGN_FN, ("__inference_hook_7", [("cb", "PyFunc"), ("ident", "Identity")])]),
                      "block", "T1", ["PyFunc", "__inference_hook_7"], "PyFunc hidden in a function of the graph's function library")
    write_saved_model("savedmodel_eagerpyfunc", saved_model(BENIGN_GRAPH + [("py/EagerPyFunc", "EagerPyFunc")]),
                      "block", "T1", ["EagerPyFunc", "py/EagerPyFunc"], "EagerPyFunc node in the main graph")
    write_saved_model("savedmodel_keras_lambda", saved_model(BENIGN_GRAPH, [BENIGN_FN], [("_tf_keras_layer", lambda_metadata())]),
                      "block", "K1", ["MG260", "Lambda"], "TF 2.0-2.4 Keras SavedModel: a Lambda layer's bytecode in the object graph's user-object metadata")
    write_keras_metadata("keras_metadata_benign", [("root", "_tf_keras_sequential", {"name": "sequential", "class_name": "Sequential"}),
                                                   ("root.layer-0", "_tf_keras_layer", dense_metadata())],
                         "pass", None, [], "keras_metadata.pb of a Sequential with one Dense layer")
    write_keras_metadata("keras_metadata_lambda", [("root.layer-0", "_tf_keras_layer", dense_metadata()),
                                                   ("root.layer-1", "_tf_keras_layer", lambda_metadata())],
                         "block", "K1", ["MG260", "root.layer-1"], "keras_metadata.pb whose Lambda layer carries marshalled bytecode")
    write_saved_model("savedmodel_matchingfiles_library", saved_model(BENIGN_GRAPH, [("__inference_scan_3", [("glob", "MatchingFiles")])]),
                      "block", "T1", ["MatchingFiles", "glob"], "MatchingFiles in a library function")


# ---------------------------------------------------------------- SavedModel (written by the real TensorFlow)

TF_PREFIX = "tf_"
# What the malicious fixtures would write: files under /tmp that nothing reads.
FIXTURE_TARGET = "/tmp/modelgate-fixture-"
FIXTURE_PAYLOAD = "modelgate-fixture"


def tf_folder(name):
    folder = path(name + "/saved_model.pb").rsplit("/", 1)[0]
    shutil.rmtree(folder, ignore_errors=True)
    return folder


def vocabulary_file():
    """A vocabulary outside the fixtures, which the saver copies into the model's assets/."""
    folder = tempfile.mkdtemp(prefix="modelgate-fixture-vocab-")
    atexit.register(shutil.rmtree, folder, True)
    with open(os.path.join(folder, "vocab.txt"), "w") as f:
        f.write("alpha\nbeta\ngamma\n")
    return os.path.join(folder, "vocab.txt")


def strip_traced_restore(folder, drop, paths):
    """Leaves the checkpoint paths in variables/ only, as a red team did (round 12): the payload is
    dropped from the TF1-compatible __traced_restore (TF2's loader never runs it) and the path
    constants the traced save function holds become "state"."""
    from tensorflow.core.protobuf import saved_model_pb2
    sm = saved_model_pb2.SavedModel()
    pb = os.path.join(folder, "saved_model.pb")
    with open(pb, "rb") as f:
        sm.ParseFromString(f.read())
    library = sm.meta_graphs[0].graph_def.library
    for fn in library.function:
        if "_traced_restore" not in fn.signature.name:
            continue
        keep = [n for n in fn.node_def if not n.name.startswith(drop)]
        for n in keep:
            inputs = [i for i in n.input if not (i.startswith("^") and i[1:].startswith(drop))]
            del n.input[:]
            n.input.extend(inputs)
        del fn.node_def[:]
        fn.node_def.extend(keep)
        for k in [k for k in fn.control_ret if k.startswith(drop)]:
            del fn.control_ret[k]
        outputs = [k for k in fn.signature.control_output if not k.startswith(drop)]
        del fn.signature.control_output[:]
        fn.signature.control_output.extend(outputs)
    for nodes in [sm.meta_graphs[0].graph_def.node] + [fn.node_def for fn in library.function]:
        for n in nodes:
            if n.op == "Const" and "value" in n.attr:
                values = n.attr["value"].tensor.string_val
                for i, v in enumerate(values):
                    if v in [p.encode() for p in paths]:
                        values[i] = b"state"
    with open(pb, "wb") as f:
        f.write(sm.SerializeToString())


def tf2_checkpoint_path_fixtures(tf):
    """A saveable whose restore function writes where the checkpoint says (legacy SaveableObject and
    the current _restore_from_tensors): TF2's loader calls it with tensors read from variables/."""
    from tensorflow.python.training.saving import saveable_object

    exact, prefix = FIXTURE_TARGET + "restore-v1", FIXTURE_TARGET + "restore-v2"

    def write_both(paths):
        data = tf.constant([FIXTURE_PAYLOAD])
        v1 = tf.raw_ops.Save(filename=paths[0], tensor_names=["k"], data=[data], name="save_v1")
        v2 = tf.raw_ops.SaveV2(prefix=paths[1], tensor_names=["k"], shape_and_slices=[""], tensors=[data], name="save_v2")
        with tf.control_dependencies([v1, v2]):
            return tf.debugging.Assert(True, [paths[0]])

    class PathSaveable(saveable_object.SaveableObject):
        def __init__(self, name):
            a, b = tf.constant(exact), tf.constant(prefix)
            super().__init__(a, [saveable_object.SaveSpec(a, "", name + "_a"), saveable_object.SaveSpec(b, "", name + "_b")], name)

        def restore(self, restored_tensors, restored_shapes):
            return write_both(restored_tensors)

    class Legacy(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable([1.0, 2.0])

        def _gather_saveables_for_checkpoint(self):
            return {"state": PathSaveable}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def __call__(self, x):
            return x * self.w[0]

    class State(tf.Module):
        def _serialize_to_tensors(self):
            return {"a": tf.constant(exact), "b": tf.constant(prefix)}

        def _restore_from_tensors(self, restored_tensors):
            return write_both([restored_tensors["a"], restored_tensors["b"]])

    class Current(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable([1.0, 2.0])
            self.state = State()

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def __call__(self, x):
            return x * self.w[0]

    for name, module, note in (
        ("tf_saveable_restore_path", Legacy(), "legacy SaveableObject"),
        ("tf_restore_from_tensors_path", Current(), "Trackable._restore_from_tensors"),
    ):
        folder = tf_folder(name)
        tf.saved_model.save(module, folder)
        strip_traced_restore(folder, ("save_v1", "save_v2", "Assert/Assert"), (exact, prefix))
        add(name + "/saved_model.pb", "block", "T1", ["save_v1", "save_v2", "restore_fn"],
            f"TF {tf.__version__} SavedModel whose {note} restore function runs Save/SaveV2 on the tensors TF2's loader reads "
            "from the checkpoint: the paths live only in variables/ (red team round 12)")


def tf2_benign_fixture(tf):
    """A real TF2 model with everything the loader feeds legitimately: a variable checkpoint, a
    vocabulary asset read by a table initializer, and a MutableHashTable whose restore function
    the loader calls with checkpoint tensors (no path among them)."""
    folder = tf_folder("tf_assets_tables_benign")
    vocab = vocabulary_file()

    class Tables(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable([1.0, 2.0])
            init = tf.lookup.TextFileInitializer(vocab, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE, tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER)
            self.vocab = tf.lookup.StaticHashTable(init, default_value=-1)
            self.counts = tf.lookup.experimental.MutableHashTable(tf.string, tf.int64, default_value=0)
            self.counts.insert(tf.constant(["alpha"]), tf.constant([3], tf.int64))

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
        def __call__(self, words):
            return self.vocab.lookup(words) + self.counts.lookup(words), self.w[0]

    tf.saved_model.save(Tables(), folder)
    add("tf_assets_tables_benign/saved_model.pb", "pass", None, [],
        f"TF {tf.__version__} tf.saved_model.save: variable checkpoint, StaticHashTable from an asset vocabulary, MutableHashTable restored from the checkpoint")


def tf1_fixtures(tf):
    """TF1 SavedModels. The loaders run the restore op fed only the saver's filename tensor and the
    main op fed only the asset tensors; the malicious twin uses each step's unfed tensor as a path."""
    from tensorflow.core.protobuf import saved_model_pb2, saver_pb2
    v1 = tf.compat.v1

    # Benign: SavedModelBuilder with a variable, its saver, a vocabulary asset and a main op that reads it.
    folder = tf_folder("tf_v1_main_op_asset_benign")
    vocab = vocabulary_file()
    graph = tf.Graph()
    with graph.as_default(), v1.Session(graph=graph) as sess:
        words = v1.placeholder(tf.string, [None], name="words")
        table = v1.lookup.StaticHashTable(v1.lookup.TextFileInitializer(vocab, tf.string, -2, tf.int64, -1), -1)
        w = v1.get_variable("w", initializer=tf.constant([1.0, 2.0]))
        ids = table.lookup(words)
        score = tf.identity(tf.cast(ids, tf.float32) * w[0], name="score")
        sess.run(v1.global_variables_initializer())
        builder = v1.saved_model.Builder(folder)
        signature = v1.saved_model.predict_signature_def({"words": words}, {"score": score})
        builder.add_meta_graph_and_variables(sess, ["serve"], signature_def_map={"serving_default": signature},
                                             main_op=v1.tables_initializer(), assets_collection=v1.get_collection(v1.GraphKeys.ASSET_FILEPATHS))
        builder.save()
    add("tf_v1_main_op_asset_benign/saved_model.pb", "pass", None, [],
        f"TF {tf.__version__} compat.v1 SavedModelBuilder: variable and saver, a vocabulary asset read by the main op, a signature")

    # Malicious: the restore op uses the asset tensors, the main op the saver's filename tensor.
    folder = tf_folder("tf_v1_crossfeed")
    graph = tf.Graph()
    with graph.as_default():
        filename = tf.constant(FIXTURE_TARGET + "mainop", name="save/filename")
        asset_write = tf.constant(FIXTURE_TARGET + "restore-v2", name="asset_vocab")
        asset_exact = tf.constant(FIXTURE_TARGET + "restore-v1", name="asset_merges")
        asset_read = tf.constant(FIXTURE_TARGET + "read", name="asset_spm")
        data = tf.constant([FIXTURE_PAYLOAD], name="payload")
        s2 = tf.raw_ops.SaveV2(prefix=asset_write, tensor_names=["payload"], shape_and_slices=[""], tensors=[data], name="save_v2")
        s1 = tf.raw_ops.Save(filename=asset_exact, tensor_names=["payload"], data=[data], name="save_v1")
        table = tf.raw_ops.HashTableV2(key_dtype=tf.string, value_dtype=tf.int64, shared_name="vocab_table", name="table")
        init = tf.raw_ops.InitializeTableFromTextFileV2(table_handle=table, filename=asset_read, key_index=-2, value_index=-1, name="table_init")
        tf.group(s2, s1, init, name="restore_all")
        s3 = tf.raw_ops.SaveV2(prefix=filename, tensor_names=["payload"], shape_and_slices=[""], tensors=[data], name="save_main")
        v1.add_to_collection("saved_model_main_op", tf.group(s3, name="main_op"))
        keys, _ = tf.raw_ops.LookupTableExportV2(table_handle=table, Tkeys=tf.string, Tvalues=tf.int64, name="export")
        x = v1.placeholder(tf.float32, [None], name="x")
        y = tf.identity(x, name="y")
        saver = saver_pb2.SaverDef(filename_tensor_name=filename.name, save_tensor_name=filename.name, restore_op_name="restore_all", version=saver_pb2.SaverDef.V2)
        mg = v1.train.export_meta_graph(graph=graph, saver_def=saver)
    mg.meta_info_def.tags.append("serve")
    for tensor, name in ((asset_write, "vocab.txt"), (asset_exact, "merges.txt"), (asset_read, "spm.model")):
        a = mg.asset_file_def.add()
        a.tensor_info.name, a.tensor_info.dtype, a.filename = tensor.name, 7, name
    sig = mg.signature_def["serving_default"]
    sig.method_name = "tensorflow/serving/predict"
    sig.inputs["x"].name, sig.inputs["x"].dtype = x.name, 1
    sig.outputs["keys"].name, sig.outputs["keys"].dtype = keys.name, 7
    sig.outputs["y"].name, sig.outputs["y"].dtype = y.name, 1
    sm = saved_model_pb2.SavedModel(saved_model_schema_version=1)
    sm.meta_graphs.add().CopyFrom(mg)
    os.makedirs(os.path.join(folder, "assets"))
    for name in ("vocab.txt", "merges.txt", "spm.model"):
        with open(os.path.join(folder, "assets", name), "w") as f:
            f.write("alpha\nbeta\n")
    with open(os.path.join(folder, "saved_model.pb"), "wb") as f:
        f.write(sm.SerializeToString())
    add("tf_v1_crossfeed/saved_model.pb", "block", "T1", ["save_v1", "save_v2", "save_main", "table_init"],
        "TF1 SavedModel whose restore op writes and reads at the asset tensors and whose main op writes at the saver's filename tensor: "
        "each loader step feeds only its own (red team round 12)")


def encode_string_list(values):
    """A string tensor's tensor_content as TensorFlow's Tensor::AsProtoTensorContent writes it
    (port::EncodeStringList): every value's length as a varint32, then the bytes of each."""
    return b"".join(varint(len(v)) for v in values) + b"".join(values)


def move_to_tensor_content(folder, marker, value, decoy):
    """Rewrites each Const holding `marker` so that its value lives in tensor_content, which
    TensorFlow reads whenever it is non-empty, with `decoy` left in string_val (or nothing)."""
    from tensorflow.core.protobuf import saved_model_pb2
    sm = saved_model_pb2.SavedModel()
    pb = os.path.join(folder, "saved_model.pb")
    with open(pb, "rb") as f:
        sm.ParseFromString(f.read())
    hits = 0
    for fn in sm.meta_graphs[0].graph_def.library.function:
        for n in fn.node_def:
            t = n.attr["value"].tensor if n.op == "Const" and "value" in n.attr else None
            if t is not None and list(t.string_val) == [marker.encode()]:
                del t.string_val[:]
                if decoy is not None:
                    t.string_val.append(decoy.encode())
                t.tensor_content = encode_string_list([value.encode()])
                hits += 1
    assert hits > 0, f"no Const holds {marker}"
    with open(pb, "wb") as f:
        f.write(sm.SerializeToString())


def tf2_tensor_content_fixtures(tf):
    """A resource initializer (the loader runs it) joining a constant suffix to its asset's path, the
    suffix kept in tensor_content. Malicious (red team round 14): "/../…" there, a harmless
    "/shard" in string_val. Benign: an empty suffix in tensor_content, nothing in string_val."""
    marker = "/modelgate-suffix"

    class Initialized(tf.saved_model.experimental.TrackableResource):
        def __init__(self, asset, write):
            super().__init__()
            self.asset, self.write = asset, write

        def _create_resource(self):
            return tf.raw_ops.HashTableV2(key_dtype=tf.string, value_dtype=tf.int64, shared_name="", container="")

        def _initialize(self):
            joined = tf.strings.join([self.asset.asset_path, tf.constant(marker)])
            init = tf.raw_ops.InitializeTableFromTextFileV2(table_handle=self.resource_handle, filename=joined, key_index=-2, value_index=-1, name="table_init")
            if not self.write:
                return init
            with tf.control_dependencies([init]):
                return tf.raw_ops.Save(filename=joined, tensor_names=["k"], data=[tf.constant(FIXTURE_PAYLOAD)], name="save_v1")

    class Vocabulary(tf.Module):
        def __init__(self, resource, write):
            super().__init__()
            self.vocab = tf.saved_model.Asset(vocabulary_file())
            self.table = resource(self.vocab, write)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
        def lookup(self, words):
            return tf.raw_ops.LookupTableFindV2(table_handle=self.table.resource_handle, keys=words, default_value=tf.constant(-1, tf.int64))

    for name, write, value, decoy in (
        ("tf_tensor_content_suffix", True, "/.." * 12 + FIXTURE_TARGET + "tensor-content", "/shard"),
        ("tf_tensor_content_benign", False, "", None),
    ):
        folder = tf_folder(name)
        tf.saved_model.save(Vocabulary(Initialized, write), folder)
        move_to_tensor_content(folder, marker, value, decoy)
        if write:
            add(name + "/saved_model.pb", "block", "T1", ["save_v1", "table_init"],
                f"TF {tf.__version__} SavedModel whose table initializer joins its asset's path with a constant held in tensor_content "
                "(\"/../…\", which TensorFlow reads) behind a harmless string_val (\"/shard\"): Save and the table read climb out of the model (red team round 14)")
        else:
            add(name + "/saved_model.pb", "pass", None, [],
                f"TF {tf.__version__} SavedModel whose table initializer joins its asset's path with an empty suffix held in tensor_content, "
                "as Tensor::AsProtoTensorContent encodes a string tensor")


def tf2_default_argument_fixtures(tf):
    """A tf.function the user calls whose argument has a default the SavedModel stores (its
    FunctionSpec): TF2's loader fills it in when the caller leaves it out. Malicious (red team
    round 14): predict(x, path=<a file>) writes there on m.predict(x). Benign: a scale with a default,
    and a save_state(path, scale=1.0) whose path the user passes."""

    class DefaultPath(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32), tf.TensorSpec([], tf.string)])
        def predict(self, x, path=FIXTURE_TARGET + "default-argument"):
            save = tf.raw_ops.Save(filename=path, tensor_names=["k"], data=[tf.constant(FIXTURE_PAYLOAD)], name="save_v1")
            with tf.control_dependencies([save]):
                return tf.identity(x * 2.0)

    class DefaultScale(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable([1.0, 2.0])

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32), tf.TensorSpec([], tf.float32)])
        def __call__(self, x, scale=2.0):
            return x * self.w[0] * scale

        @tf.function(input_signature=[tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.float32)])
        def save_state(self, path, scale=1.0):
            save = tf.raw_ops.Save(filename=path, tensor_names=["w"], data=[self.w * scale], name="save_state")
            with tf.control_dependencies([save]):
                return tf.identity(scale)

    folder = tf_folder("tf_default_argument_path")
    tf.saved_model.save(DefaultPath(), folder)
    add("tf_default_argument_path/saved_model.pb", "block", "T1", ["save_v1"],
        f"TF {tf.__version__} SavedModel whose tf.function predict(x, path=...) runs Save on the path argument: the default, stored in its "
        "FunctionSpec, is what the loaded function passes when the user calls predict(x) (red team round 14)")
    folder = tf_folder("tf_default_argument_benign")
    tf.saved_model.save(DefaultScale(), folder)
    add("tf_default_argument_benign/saved_model.pb", "pass", None, [],
        f"TF {tf.__version__} SavedModel whose tf.functions take a scale with a default (1.0, 2.0), one of them saving to the path the user passes")


def tensorflow_fixtures():
    import tensorflow as tf
    tf.random.set_seed(0)
    tf2_benign_fixture(tf)
    tf2_checkpoint_path_fixtures(tf)
    tf1_fixtures(tf)
    tf2_tensor_content_fixtures(tf)
    tf2_default_argument_fixtures(tf)


# ---------------------------------------------------------------- TFLite (hand-laid flatbuffer)

BUILTIN_ADD, BUILTIN_FULLY_CONNECTED, BUILTIN_CUSTOM = 0, 9, 32


def tflite(op_codes):
    """Model { version: 3, operator_codes: [OperatorCode] } with OperatorCode fields
    deprecated_builtin_code (0, int8), custom_code (1, string), version (2, int32), builtin_code (3, int32)."""
    out = bytearray(struct.pack("<I", 0) + b"TFL3")
    model_vt = len(out)
    out += struct.pack("<HHHH", 8, 12, 4, 8)  # vtable: size, table size, version @4, operator_codes @8
    model = len(out)
    out += struct.pack("<iI", model - model_vt, 3)
    codes_field = len(out)
    out += b"\0" * 4
    vec = len(out)
    out += struct.pack("<I", len(op_codes))
    slots = []
    for _ in op_codes:
        slots.append(len(out))
        out += b"\0" * 4
    struct.pack_into("<I", out, codes_field, vec - codes_field)
    for slot, (builtin, custom) in zip(slots, op_codes):
        vt = len(out)
        out += struct.pack("<HHHHHH", 12, 20, 4, 8 if custom is not None else 0, 12, 16)
        table = len(out)
        out += struct.pack("<ibxxxIii", table - vt, min(builtin, 127), 0, 1, builtin)
        struct.pack_into("<I", out, slot, table - slot)
        if custom is not None:
            s = len(out)
            data = custom.encode()
            out += struct.pack("<I", len(data)) + data + b"\0"
            out += b"\0" * (-len(out) % 4)
            struct.pack_into("<I", out, table + 8, s - (table + 8))
    struct.pack_into("<I", out, 0, model)
    return bytes(out)


def tflite_fixtures():
    for rel, codes, expect, threat, mentions, note in (
        ("tflite_builtin.tflite", [(BUILTIN_ADD, None), (BUILTIN_FULLY_CONNECTED, None)], "pass", None, [], "TFLite model with builtin ops only (ADD, FULLY_CONNECTED)"),
        ("tflite_custom_op.tflite", [(BUILTIN_ADD, None), (BUILTIN_CUSTOM, "EvilCustomOp")], "block", "T1", ["EvilCustomOp"], "TFLite model with a custom operator (native kernel)"),
        ("tflite_flex_readfile.tflite", [(BUILTIN_CUSTOM, "FlexReadFile")], "block", "T1", ["FlexReadFile", "ReadFile"], "TFLite Flex (select TF ops) custom op running TensorFlow's ReadFile"),
    ):
        with open(path(rel), "wb") as f:
            f.write(tflite(codes))
        add(rel, expect, threat, mentions, note)


def main():
    """Rebuilds one mode's fixtures (the hand-made ones, or with --tensorflow the tf_* ones) and keeps the other's."""
    real_tf = "--tensorflow" in sys.argv[1:]
    ours = (lambda rel: rel.startswith(TF_PREFIX)) if real_tf else (lambda rel: not rel.startswith(TF_PREFIX))
    listing = os.path.join(OUT, "manifest.json")
    kept = []
    if os.path.exists(listing):
        with open(listing) as f:
            kept = [e for e in json.load(f) if not ours(e["file"][len("graph-formats/"):])]
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if name != "manifest.json" and ours(name):
            target = os.path.join(OUT, name)
            shutil.rmtree(target) if os.path.isdir(target) else os.remove(target)
    if real_tf:
        tensorflow_fixtures()
    else:
        onnx_fixtures()
        savedmodel_fixtures()
        tflite_fixtures()
    entries = kept + manifest if real_tf else manifest + kept  # the hand-made first, as before
    with open(listing, "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(e) for e in entries) + "\n]\n")
    print(f"{len(manifest)} fixtures ({sum(e['expect'] == 'pass' for e in manifest)} benign) in {OUT}, {len(kept)} kept", file=sys.stderr)


if __name__ == "__main__":
    main()
