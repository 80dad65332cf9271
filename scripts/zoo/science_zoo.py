"""The rest of the scientific stack, each library only where this interpreter has
it: SciPy (sparse matrices and arrays of every format, interpolators, frozen
distributions, KD-trees), statsmodels results (.save), LightGBM, XGBoost,
gensim, NLTK, imbalanced-learn, OmegaConf and dill.  Runs in the modern venv
and under Debian's Python (XGBoost, gensim, imbalanced-learn and OmegaConf are
Debian packages only: the local index lacks them or their dependencies).
"""

import pickle
import warnings

import joblib
import numpy as np

from zoo_common import Zoo

warnings.filterwarnings("ignore")
zoo = Zoo()
rng = np.random.default_rng(0)
X = rng.standard_normal((40, 4))
y = (X[:, 0] + X[:, 1] > 0).astype(int)


def dump(obj, name, note, proto=4):
    with open(zoo.path(name), "wb") as f:
        pickle.dump(obj, f, protocol=proto)
    zoo.add(name, note)


def attempt(label, make):
    """Run one library's block; a missing module or feature of this version is reported and skipped."""
    try:
        make()
    except ImportError as e:
        print("skipped %s: %s" % (label, e))


def scipy_files():
    import scipy
    from scipy import interpolate, sparse, spatial, stats
    V = "SciPy " + scipy.__version__
    dense = np.array([[1.0, 0, 0, 2.0], [0, 0, 3.0, 0], [4.0, 0, 0, 0], [0, 5.0, 0, 6.0]])
    for fmt in ("csr", "csc", "coo", "bsr", "dia", "lil", "dok"):
        dump(getattr(sparse, fmt + "_matrix")(dense), "scipy/sparse_%s_matrix.pkl" % fmt, "pickle of a scipy.sparse %s_matrix (%s)" % (fmt, V))
        if hasattr(sparse, fmt + "_array"):
            dump(getattr(sparse, fmt + "_array")(dense), "scipy/sparse_%s_array.pkl" % fmt, "pickle of a scipy.sparse %s_array (%s)" % (fmt, V))
    joblib.dump({"X": sparse.csr_matrix(dense), "vocab": ["a", "b", "c", "d"]}, zoo.path("scipy/sparse_in_joblib.joblib"))
    zoo.add("scipy/sparse_in_joblib.joblib", "joblib.dump of a CSR matrix with its vocabulary (%s)" % V)
    xs = np.linspace(0, 3, 8)
    ys = np.sin(xs)
    interpolators = {
        "interp1d_cubic": lambda: interpolate.interp1d(xs, ys, kind="cubic"),
        "cubic_spline": lambda: interpolate.CubicSpline(xs, ys),
        "pchip": lambda: interpolate.PchipInterpolator(xs, ys),
        "akima": lambda: interpolate.Akima1DInterpolator(xs, ys),
        "make_interp_spline": lambda: interpolate.make_interp_spline(xs, ys, k=3),
        "univariate_spline": lambda: interpolate.UnivariateSpline(xs, ys),
        "regular_grid": lambda: interpolate.RegularGridInterpolator((xs, xs), np.outer(ys, ys)),
        "rbf_interpolator": lambda: interpolate.RBFInterpolator(X[:, :2], y.astype(float)),
    }
    for name, make in sorted(interpolators.items()):
        dump(make(), "scipy/interp_%s.pkl" % name, "pickle of a scipy.interpolate %s (%s)" % (name, V))
    frozen = {"norm": stats.norm(0, 1), "gamma": stats.gamma(2.0, scale=3.0), "beta": stats.beta(2, 3),
              "poisson": stats.poisson(3.0), "t": stats.t(5), "multivariate_normal": stats.multivariate_normal([0, 0], [[1, 0.2], [0.2, 1]])}
    for name, dist in sorted(frozen.items()):
        dump(dist, "scipy/frozen_%s.pkl" % name, "pickle of a frozen scipy.stats.%s distribution (%s)" % (name, V))
    dump(stats.gaussian_kde(X[:, 0]), "scipy/gaussian_kde.pkl", "pickle of a scipy.stats.gaussian_kde (%s)" % V)
    dump(spatial.KDTree(X), "scipy/kdtree.pkl", "pickle of a scipy.spatial.KDTree (%s)" % V)
    dump(spatial.cKDTree(X), "scipy/ckdtree.pkl", "pickle of a scipy.spatial.cKDTree (%s)" % V)
    dump(spatial.transform.Rotation.from_euler("xyz", [10, 20, 30], degrees=True), "scipy/rotation.pkl", "pickle of a scipy Rotation (%s)" % V)


def statsmodels_files():
    import statsmodels
    import statsmodels.api as sm
    V = "statsmodels " + statsmodels.__version__
    Xc = sm.add_constant(X[:, :2])
    results = {
        "ols": sm.OLS(X[:, 2], Xc).fit(),
        "logit": sm.Logit((X[:, 3] > 0).astype(int), Xc).fit(disp=0),
        "glm_poisson": sm.GLM(np.abs(np.round(X[:, 2] * 3)), Xc, family=sm.families.Poisson()).fit(),
        "wls": sm.WLS(X[:, 2], Xc, weights=np.abs(X[:, 3]) + 0.1).fit(),
        "arima": sm.tsa.ARIMA(np.cumsum(X[:, 0]), order=(1, 0, 0)).fit(),
        "exponential_smoothing": sm.tsa.ExponentialSmoothing(np.abs(np.cumsum(X[:, 0])) + 1, trend="add").fit(),
    }
    for name, res in sorted(results.items()):
        res.save(zoo.path("statsmodels/%s_results.pickle" % name))
        zoo.add("statsmodels/%s_results.pickle" % name, "statsmodels results.save() of a %s fit (%s)" % (name, V))
    results["ols"].save(zoo.path("statsmodels/ols_results_removed_data.pickle"), remove_data=True)
    zoo.add("statsmodels/ols_results_removed_data.pickle", "statsmodels results.save(remove_data=True) (%s)" % V)


def lightgbm_files():
    import lightgbm as lgb
    V = "LightGBM " + lgb.__version__
    clf = lgb.LGBMClassifier(n_estimators=3, num_leaves=4, min_child_samples=2, verbose=-1).fit(X, y)
    booster = lgb.train({"objective": "regression", "num_leaves": 4, "verbose": -1, "min_data_in_leaf": 2}, lgb.Dataset(X, X[:, 2]), num_boost_round=3)
    dump(clf, "lightgbm/lgbm_classifier.pkl", "pickle of a fitted LGBMClassifier (%s)" % V)
    joblib.dump(clf, zoo.path("lightgbm/lgbm_classifier.joblib"))
    zoo.add("lightgbm/lgbm_classifier.joblib", "joblib.dump of a fitted LGBMClassifier (%s)" % V)
    dump(booster, "lightgbm/booster.pkl", "pickle of a lightgbm.Booster from lgb.train (%s)" % V)


def xgboost_files():
    import xgboost as xgb
    V = "XGBoost " + xgb.__version__
    clf = xgb.XGBClassifier(n_estimators=3, max_depth=2).fit(X, y)
    dump(clf, "xgboost/xgb_classifier.pkl", "pickle of a fitted XGBClassifier (%s)" % V)
    joblib.dump(clf, zoo.path("xgboost/xgb_classifier.joblib"))
    zoo.add("xgboost/xgb_classifier.joblib", "joblib.dump of a fitted XGBClassifier (%s)" % V)
    dump(xgb.train({"max_depth": 2}, xgb.DMatrix(X, label=X[:, 2]), num_boost_round=3), "xgboost/booster.pkl", "pickle of an xgboost.Booster (%s)" % V)


def gensim_files():
    import gensim
    from gensim import corpora, models
    V = "gensim " + gensim.__version__
    sentences = [["the", "cat", "sat"], ["a", "dog", "barked"], ["the", "dog", "sat", "down"], ["cats", "and", "dogs"]] * 5
    w2v = models.Word2Vec(sentences, vector_size=4, min_count=1, epochs=1, workers=1, seed=0)
    w2v.save(zoo.path("gensim/word2vec.model"))
    zoo.add("gensim/word2vec.model", "gensim Word2Vec.save (%s)" % V)
    w2v.wv.save(zoo.path("gensim/keyed_vectors.kv"))
    zoo.add("gensim/keyed_vectors.kv", "gensim KeyedVectors.save (%s)" % V)
    dictionary = corpora.Dictionary(sentences)
    dictionary.save(zoo.path("gensim/dictionary.dict"))
    zoo.add("gensim/dictionary.dict", "gensim corpora.Dictionary.save (%s)" % V)
    corpus = [dictionary.doc2bow(s) for s in sentences]
    models.TfidfModel(corpus).save(zoo.path("gensim/tfidf.model"))
    zoo.add("gensim/tfidf.model", "gensim TfidfModel.save (%s)" % V)


def nltk_files():
    import nltk
    from nltk.tokenize.punkt import PunktSentenceTokenizer, PunktTrainer
    V = "NLTK " + nltk.__version__
    trainer = PunktTrainer()
    trainer.train("Dr. Smith went home. He said hello to Mr. Jones. It was late. The U.S. team won. " * 5, finalize=True)
    dump(PunktSentenceTokenizer(trainer.get_params()), "nltk/punkt_tokenizer.pickle", "pickle of a trained PunktSentenceTokenizer, as punkt's english.pickle (%s)" % V)
    feats = [({"last_letter": w[-1]}, g) for w, g in [("anna", "f"), ("john", "m"), ("maria", "f"), ("peter", "m")] * 3]
    dump(nltk.NaiveBayesClassifier.train(feats), "nltk/naive_bayes.pickle", "pickle of an nltk NaiveBayesClassifier (%s)" % V)
    dump({"freq": nltk.FreqDist("abracadabra"), "cfd": nltk.ConditionalFreqDist([("a", "x"), ("a", "y"), ("b", "x")]),
          "stemmer": nltk.PorterStemmer(), "tokenizer": nltk.RegexpTokenizer(r"\w+"), "treebank": nltk.TreebankWordTokenizer()},
         "nltk/freqdist_stemmer_tokenizers.pickle", "pickle of FreqDist, ConditionalFreqDist, PorterStemmer and tokenizers (%s)" % V)


def imblearn_files():
    import imblearn
    from imblearn.ensemble import BalancedRandomForestClassifier
    from imblearn.over_sampling import SMOTE
    from imblearn.pipeline import make_pipeline
    from imblearn.under_sampling import RandomUnderSampler
    from sklearn.linear_model import LogisticRegression
    V = "imbalanced-learn " + imblearn.__version__
    joblib.dump(make_pipeline(SMOTE(k_neighbors=2, random_state=0), LogisticRegression()).fit(X, y), zoo.path("imblearn/smote_pipeline.joblib"))
    zoo.add("imblearn/smote_pipeline.joblib", "joblib.dump of an imblearn Pipeline(SMOTE, LogisticRegression) (%s)" % V)
    joblib.dump(make_pipeline(RandomUnderSampler(random_state=0), LogisticRegression()).fit(X, y), zoo.path("imblearn/undersampler_pipeline.joblib"))
    zoo.add("imblearn/undersampler_pipeline.joblib", "joblib.dump of an imblearn Pipeline(RandomUnderSampler, LogisticRegression) (%s)" % V)
    dump(BalancedRandomForestClassifier(n_estimators=3, random_state=0).fit(X, y), "imblearn/balanced_random_forest.pkl", "pickle of a BalancedRandomForestClassifier (%s)" % V)


def omegaconf_files():
    import omegaconf
    from omegaconf import OmegaConf
    V = "OmegaConf " + omegaconf.__version__
    cfg = OmegaConf.create({"model": {"name": "resnet18", "layers": [2, 2, 2, 2], "dropout": 0.1},
                            "optim": {"lr": 0.001, "betas": [0.9, 0.999]}, "data": {"root": "${oc.env:DATA,/data}", "batch": 32}})
    dump(cfg, "omegaconf/dictconfig.pkl", "pickle of an OmegaConf DictConfig with an interpolation (%s)" % V)
    dump(OmegaConf.create([1, "two", {"three": 3}]), "omegaconf/listconfig.pkl", "pickle of an OmegaConf ListConfig (%s)" % V)
    try:
        import torch
        torch.save({"state_dict": {"w": torch.zeros(2)}, "hyper_parameters": {"cfg": cfg}, "epoch": 1}, zoo.path("omegaconf/checkpoint_hparams.ckpt"))
        zoo.add("omegaconf/checkpoint_hparams.ckpt", "torch.save of a Lightning-style checkpoint whose hyper_parameters hold a DictConfig (%s)" % V)
    except ImportError:
        pass


def dill_files():
    import dill
    V = "dill " + dill.__version__
    # Not Ellipsis, NotImplemented or range: dill writes those as _eval_repr("..."), an eval of a string,
    # which no gate should pass without proving the string a literal.
    data = {"array": np.arange(6).reshape(2, 3), "types": [int, float, dict, type(None), np.ndarray], "slice": slice(1, 5, 2)}
    with open(zoo.path("dill/arrays_and_types.pkl"), "wb") as f:
        dill.dump(data, f)
    zoo.add("dill/arrays_and_types.pkl", "dill.dump of arrays and builtin types (%s)" % V)


for label, make in [("scipy", scipy_files), ("statsmodels", statsmodels_files), ("lightgbm", lightgbm_files), ("xgboost", xgboost_files),
                    ("gensim", gensim_files), ("nltk", nltk_files), ("imblearn", imblearn_files), ("omegaconf", omegaconf_files), ("dill", dill_files)]:
    attempt(label, make)
zoo.finish()
