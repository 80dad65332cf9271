"""Keras 3 files (.keras, legacy .h5, .weights.h5) of small built-in layer stacks,
made with the torch backend (make_zoo.py sets KERAS_BACKEND=torch: the same
file formats, without installing TensorFlow).  TF SavedModels are
test/fixtures/modern's.
"""

import os
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")
warnings.filterwarnings("ignore")

from zoo_common import Zoo, import_torchvision  # noqa: E402

zoo = Zoo()
import_torchvision()
import keras  # noqa: E402
from keras import layers  # noqa: E402

V = "Keras %s, %s backend" % (keras.__version__, keras.backend.backend())


def sequential_mlp():
    return keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"), layers.Dropout(0.1), layers.Dense(3, activation="softmax")])


def functional_cnn():
    inp = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same")(inp)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("gelu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, layers.Dense(2)(x), name="tiny_cnn")


def text_lstm():
    inp = keras.Input((6,), dtype="int32")
    x = layers.Embedding(20, 4, mask_zero=True)(inp)
    x = layers.Bidirectional(layers.LSTM(4))(x)
    return keras.Model(inp, layers.Dense(1, activation="sigmoid")(x))


def attention_block():
    inp = keras.Input((5, 8))
    x = layers.MultiHeadAttention(num_heads=2, key_dim=4)(inp, inp)
    x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([inp, x]))
    x = layers.GRU(4)(x)
    return keras.Model(inp, layers.Dense(2)(x))


def preprocessing_stack():
    return keras.Sequential([keras.Input((3,)), layers.Normalization(mean=[0.0, 1.0, 2.0], variance=[1.0, 1.0, 1.0]),
                             layers.Dense(2, kernel_regularizer=keras.regularizers.L2(1e-4))])


def compiled_with_functions():
    """Activation, loss and metric passed as functions, not names: Keras 3 saves each as
    {"module": "builtins", "class_name": "function", "config": NAME}."""
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation=keras.activations.relu),
                              layers.Dense(1, activation=keras.activations.sigmoid)])
    model.compile(optimizer="adam", loss=keras.losses.binary_crossentropy, metrics=[keras.metrics.binary_accuracy])
    model.save(zoo.path("compiled_with_functions.keras"))
    zoo.add("compiled_with_functions.keras", "model.save(.keras) of a model compiled with a loss and a metric given as Keras functions (%s)" % V)


for name, make in [("sequential_mlp", sequential_mlp), ("functional_cnn", functional_cnn), ("text_lstm", text_lstm),
                   ("attention_block", attention_block), ("preprocessing_stack", preprocessing_stack)]:
    model = make()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", metrics=["mae"])
    model.save(zoo.path("%s.keras" % name))
    zoo.add("%s.keras" % name, "model.save(.keras) of a %s (%s)" % (name, V))
    model.save(zoo.path("%s.h5" % name))
    zoo.add("%s.h5" % name, "model.save(.h5), the legacy HDF5 format, of a %s (%s)" % (name, V))
    model.save_weights(zoo.path("%s.weights.h5" % name))
    zoo.add("%s.weights.h5" % name, "model.save_weights(.weights.h5) of a %s (%s)" % (name, V))
compiled_with_functions()
zoo.finish()
