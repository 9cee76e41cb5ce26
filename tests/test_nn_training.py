import numpy as np

from pipeline.nn.losses import cross_entropy
from pipeline.nn.network import Network
from pipeline.nn.optimizers import SCHEDULES, Adam
from pipeline.nn.training import train


def test_early_stopping_ends_on_the_weights_of_the_best_validation_epoch():
    rng = np.random.default_rng(0)
    X, X_val = rng.normal(size=(40, 5)), rng.normal(size=(40, 5))
    labels, labels_val = rng.integers(0, 3, 40), rng.integers(0, 3, 40)  # pure noise: it overfits
    Y, Y_val = np.eye(3)[labels], np.eye(3)[labels_val]
    network = Network((5, 32, 3), "relu", np.float64).initialize("auto", rng)
    history, best = train(
        network, X, Y, loss="cross_entropy", optimizer=Adam(network.params.size, np.float64),
        learning_rate=0.01, schedule=SCHEDULES["constant"], epochs=200, batch_size=8, alpha=0.0,
        shuffle=True, rng=rng, n_iter_no_change=10, tol=0.0, labels=labels,
        validation=(X_val, Y_val, labels_val),
    )
    assert best == int(np.argmin(history["val_loss"])) < len(history["val_loss"]) - 1
    final_val_loss = cross_entropy(network.forward(X_val), Y_val)[0]
    assert final_val_loss == history["val_loss"][best]
    assert history["accuracy"][-1] > history["accuracy"][0]
