"""scikit-learn estimators fitted on tiny data and saved the ways people do:
joblib.dump (plain and with every compressor: zlib, gzip, bz2, lzma, xz, lz4)
and pickle at protocols 2, 4 and 5.  Runs under scikit-learn 1.9 (NumPy 2),
1.6 (NumPy 1) and Debian's 1.2.

imbalanced-learn is not in the local index, and no joblib older than 1.2
installs here, so joblib's legacy formats (NDArrayWrapper pickles, "ZF" files)
cannot be made by the real library and are not in the zoo.
"""

import pickle
import warnings

import joblib
import numpy as np
import sklearn
from sklearn import (calibration, cluster, compose, decomposition, discriminant_analysis, dummy, ensemble,
                     feature_extraction, feature_selection, gaussian_process, impute, isotonic, linear_model, mixture,
                     model_selection, multiclass, naive_bayes, neighbors, neural_network, pipeline, preprocessing, svm, tree)
from sklearn.datasets import make_classification, make_regression
from sklearn.experimental import enable_iterative_imputer  # noqa: F401  (makes IterativeImputer importable)

from zoo_common import Zoo

warnings.filterwarnings("ignore")
zoo = Zoo()
V = "scikit-learn %s, joblib %s, NumPy %s" % (sklearn.__version__, joblib.__version__, np.__version__)
X, y = make_classification(n_samples=40, n_features=4, n_informative=3, n_redundant=0, n_classes=3, random_state=0)
Xr, yr = make_regression(n_samples=40, n_features=4, random_state=0)
Xpos = np.abs(X)
texts = ["the cat sat", "a dog barked", "the dog sat down", "cats and dogs", "a cat barked"] * 4
labels = [0, 1, 0, 1, 1] * 4
gp_kernel = gaussian_process.kernels.ConstantKernel() * gaussian_process.kernels.RBF() + gaussian_process.kernels.WhiteKernel()

classifiers = {
    "logistic_regression": linear_model.LogisticRegression(max_iter=200),
    "sgd_classifier": linear_model.SGDClassifier(random_state=0),
    "ridge_classifier": linear_model.RidgeClassifier(),
    "perceptron": linear_model.Perceptron(),
    "linear_svc": svm.LinearSVC(),
    "svc_rbf": svm.SVC(probability=True, random_state=0),
    "nu_svc": svm.NuSVC(),
    "knn_kd_tree": neighbors.KNeighborsClassifier(3, algorithm="kd_tree"),
    "knn_ball_tree": neighbors.KNeighborsClassifier(3, algorithm="ball_tree", metric="minkowski", p=1),
    "knn_brute_cosine": neighbors.KNeighborsClassifier(3, algorithm="brute", metric="cosine"),
    "radius_neighbors": neighbors.RadiusNeighborsClassifier(radius=5.0),
    "nearest_centroid": neighbors.NearestCentroid(),
    "gaussian_nb": naive_bayes.GaussianNB(),
    "decision_tree": tree.DecisionTreeClassifier(max_depth=3, random_state=0),
    "extra_tree": tree.ExtraTreeClassifier(random_state=0),
    "random_forest": ensemble.RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0),
    "extra_trees": ensemble.ExtraTreesClassifier(n_estimators=3, random_state=0),
    "gradient_boosting": ensemble.GradientBoostingClassifier(n_estimators=3, random_state=0),
    "hist_gradient_boosting": ensemble.HistGradientBoostingClassifier(max_iter=3, random_state=0),
    "adaboost": ensemble.AdaBoostClassifier(n_estimators=3, random_state=0),
    "bagging": ensemble.BaggingClassifier(n_estimators=3, random_state=0),
    "voting": ensemble.VotingClassifier([("lr", linear_model.LogisticRegression()), ("nb", naive_bayes.GaussianNB())], voting="soft"),
    "stacking": ensemble.StackingClassifier([("dt", tree.DecisionTreeClassifier(max_depth=2)), ("knn", neighbors.KNeighborsClassifier(3))],
                                           final_estimator=linear_model.LogisticRegression()),
    "mlp": neural_network.MLPClassifier(hidden_layer_sizes=(5,), max_iter=20, random_state=0),
    "lda": discriminant_analysis.LinearDiscriminantAnalysis(),
    "qda": discriminant_analysis.QuadraticDiscriminantAnalysis(),
    "gaussian_process_classifier": gaussian_process.GaussianProcessClassifier(kernel=gp_kernel, random_state=0),
    "calibrated_svc": calibration.CalibratedClassifierCV(svm.LinearSVC(), cv=3),
    "calibrated_isotonic": calibration.CalibratedClassifierCV(naive_bayes.GaussianNB(), method="isotonic", cv=3),
    "one_vs_rest": multiclass.OneVsRestClassifier(linear_model.LogisticRegression()),
    "dummy": dummy.DummyClassifier(strategy="prior"),
    "grid_search": model_selection.GridSearchCV(svm.SVC(), {"C": [0.1, 1.0], "kernel": ["linear", "rbf"]}, cv=3),
    "pipeline_scaler_select_lr": pipeline.make_pipeline(preprocessing.StandardScaler(), feature_selection.SelectKBest(feature_selection.f_classif, k=2),
                                                       linear_model.LogisticRegression()),
    "pipeline_poly_pca_svc": pipeline.Pipeline([("poly", preprocessing.PolynomialFeatures(2)), ("pca", decomposition.PCA(3)), ("svc", svm.SVC())]),
}
regressors = {
    "linear_regression": linear_model.LinearRegression(),
    "ridge": linear_model.Ridge(),
    "lasso": linear_model.Lasso(),
    "elastic_net": linear_model.ElasticNet(),
    "hist_gradient_boosting_regressor": ensemble.HistGradientBoostingRegressor(max_iter=3),
    "hist_gradient_boosting_quantile": ensemble.HistGradientBoostingRegressor(loss="quantile", quantile=0.9, max_iter=3),
    "hist_gradient_boosting_poisson": ensemble.HistGradientBoostingRegressor(loss="poisson", max_iter=3),
    "random_forest_regressor": ensemble.RandomForestRegressor(n_estimators=3, max_depth=3, random_state=0),
    "knn_regressor": neighbors.KNeighborsRegressor(3),
    "svr": svm.SVR(),
    "gaussian_process_regressor": gaussian_process.GaussianProcessRegressor(kernel=gp_kernel, random_state=0),
    "transformed_target": compose.TransformedTargetRegressor(regressor=linear_model.Ridge(), func=np.log1p, inverse_func=np.expm1),
}
unsupervised = {
    "kmeans": cluster.KMeans(3, n_init=2, random_state=0),
    "minibatch_kmeans": cluster.MiniBatchKMeans(3, n_init=2, random_state=0),
    "dbscan": cluster.DBSCAN(eps=2.0),
    "agglomerative": cluster.AgglomerativeClustering(3),
    "gaussian_mixture": mixture.GaussianMixture(2, random_state=0),
    "pca": decomposition.PCA(2),
    "truncated_svd": decomposition.TruncatedSVD(2),
    "nmf": decomposition.NMF(2, max_iter=50),
    "isolation_forest": ensemble.IsolationForest(n_estimators=3, random_state=0),
    "nearest_neighbors": neighbors.NearestNeighbors(n_neighbors=3),
    "standard_scaler": preprocessing.StandardScaler(),
    "minmax_scaler": preprocessing.MinMaxScaler(),
    "robust_scaler": preprocessing.RobustScaler(),
    "quantile_transformer": preprocessing.QuantileTransformer(n_quantiles=10),
    "power_transformer": preprocessing.PowerTransformer(),
    "kbins_discretizer": preprocessing.KBinsDiscretizer(3, encode="ordinal"),
    "function_transformer": preprocessing.FunctionTransformer(np.log1p, inverse_func=np.expm1),
    "simple_imputer": impute.SimpleImputer(),
    "knn_imputer": impute.KNNImputer(),
    "iterative_imputer": impute.IterativeImputer(max_iter=2),
    "feature_union": pipeline.FeatureUnion([("pca", decomposition.PCA(2)), ("svd", decomposition.TruncatedSVD(2))]),
}
text = {
    "tfidf_vectorizer": feature_extraction.text.TfidfVectorizer(ngram_range=(1, 2)),
    "count_vectorizer": feature_extraction.text.CountVectorizer(lowercase=True),
    "hashing_vectorizer_pipeline": pipeline.make_pipeline(feature_extraction.text.HashingVectorizer(n_features=16), linear_model.SGDClassifier()),
    "tfidf_nb_pipeline": pipeline.make_pipeline(feature_extraction.text.TfidfVectorizer(), naive_bayes.MultinomialNB()),
}

fitted = {}
for group, data in [(classifiers, (X, y)), (regressors, (Xpos, np.abs(yr) + 1)), (unsupervised, (Xpos,)), (text, (texts, labels))]:
    for name, est in group.items():
        try:
            fitted[name] = est.fit(*data) if name not in ("dbscan", "agglomerative") else est.fit(data[0])
        except (TypeError, ValueError) as e:  # an estimator or option this scikit-learn lacks
            print("skipped %s: %s" % (name, e))
# Two classes: a binomial loss (scikit-learn 1.6 pickles its Cython class as _loss.CyHalfBinomialLoss).
fitted["gradient_boosting_binary"] = ensemble.GradientBoostingClassifier(n_estimators=3, random_state=0).fit(X, y % 2)
fitted["hist_gradient_boosting_binary"] = ensemble.HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(X, y % 2)
fitted["label_encoder"] = preprocessing.LabelEncoder().fit(["cat", "dog", "bird"])
fitted["multilabel_binarizer"] = preprocessing.MultiLabelBinarizer().fit([["a", "b"], ["c"]])
fitted["dict_vectorizer"] = feature_extraction.DictVectorizer().fit([{"city": "Paris", "temp": 12.0}, {"city": "Oslo", "temp": 3.0}])
fitted["isotonic"] = isotonic.IsotonicRegression().fit(X[:, 0], yr)
fitted["kd_tree"] = neighbors.KDTree(X, leaf_size=5)
fitted["ball_tree"] = neighbors.BallTree(X, leaf_size=5, metric="manhattan")
try:
    import pandas as pd
    frame = pd.DataFrame({"age": [22.0, 35.0, None, 58.0] * 5, "city": ["Paris", "Oslo", "Paris", "Rome"] * 5, "income": [1.0, 2.5, 3.0, 4.5] * 5})
    ct = compose.ColumnTransformer([("num", pipeline.make_pipeline(impute.SimpleImputer(), preprocessing.StandardScaler()), ["age", "income"]),
                                    ("cat", preprocessing.OneHotEncoder(handle_unknown="ignore"), ["city"])])
    fitted["column_transformer_pipeline"] = pipeline.make_pipeline(ct, linear_model.LogisticRegression()).fit(frame, [0, 1, 0, 1] * 5)
    fitted["ordinal_encoder_frame"] = preprocessing.OrdinalEncoder().fit(frame[["city"]])
except ImportError:
    pass

for name, est in sorted(fitted.items()):
    joblib.dump(est, zoo.path("joblib/%s.joblib" % name))
    zoo.add("joblib/%s.joblib" % name, "joblib.dump of a fitted %s (%s)" % (type(est).__name__, V))

showcase = ["hist_gradient_boosting", "knn_kd_tree", "random_forest", "column_transformer_pipeline"]
for name in showcase:
    if name not in fitted:
        continue
    for proto in (2, 4, 5):
        path = "pickle/%s_proto%d.pkl" % (name, proto)
        with open(zoo.path(path), "wb") as f:
            pickle.dump(fitted[name], f, protocol=proto)
        zoo.add(path, "pickle.dump protocol %d of a fitted %s (%s)" % (proto, type(fitted[name]).__name__, V))
    for method in ("zlib", "gzip", "bz2", "lzma", "xz", "lz4"):
        path = "compressed/%s.joblib.%s" % (name, method)
        joblib.dump(fitted[name], zoo.path(path), compress=(method, 3))
        zoo.add(path, "joblib.dump(compress=(%r, 3)) of a fitted %s (%s)" % (method, type(fitted[name]).__name__, V))
    path = "compressed/%s_compress3.joblib" % name
    joblib.dump(fitted[name], zoo.path(path), compress=3)
    zoo.add(path, "joblib.dump(compress=3) of a fitted %s (%s)" % (type(fitted[name]).__name__, V))

zoo.finish()
