"""Weights both ways: each family's model → torch-named dict → model is the identity, files round-trip,
and (with torch) the dicts load into torch modules that compute what ours compute."""
import numpy as np
import pytest

from scratch.crosscheck.weights import load, load_torch_state, save, torch_state
from scratch.datasets.text import Vocab
from scratch.kernels.glove import GloVeParams
from scratch.models.capsule import build_model
from scratch.models.glove import GloVe, SimplerGloVe
from scratch.models.perturb_max.experiment import make_mlp
from scratch.models.transformer import TransformerConfig, TransformerLM
from scratch.models.transformer_vq import TransformerVQ, TransformerVQConfig
from scratch.models.word2vec import Word2Vec

WIDTHS = (2, 3, 3, 4)


def word2vec(seed, shared=False):
    vocab = Vocab([f"w{i}" for i in range(6)], np.arange(60, 0, -10))
    return Word2Vec(dim=4, negative=3, min_count=1, shared=shared, seed=seed).build(vocab)


def glove(cls, seed, **options):
    model = cls(dim=3, **options)
    model.params = GloVeParams.init(7, 3, shared=model.shared, biases=model.biases, rng=np.random.default_rng(seed))
    return model


MODELS = {
    "word2vec": lambda seed: word2vec(seed),
    "word2vec shared": lambda seed: word2vec(seed, shared=True),
    "glove": lambda seed: glove(GloVe, seed),
    "simpler glove": lambda seed: glove(SimplerGloVe, seed),
    "simpler glove concat": lambda seed: glove(SimplerGloVe, seed, model="concat"),
    "capsule": lambda seed: build_model("su2", WIDTHS, rng=np.random.default_rng(seed)),
    "capsule cnn": lambda seed: build_model("cnn", WIDTHS, rng=np.random.default_rng(seed)),
    "transformer": lambda seed: TransformerLM(TransformerConfig(vocab_size=20, dim=8, layers=2, heads=2, ffn_dim=12,
                                                                position="kerple_log"), rng=np.random.default_rng(seed)),
    "transformer_vq": lambda seed: TransformerVQ(TransformerVQConfig(vocab=20, d_model=8, d_k=4, layers=1,
                                                                     codebook_size=5, block=4),
                                                 rng=np.random.default_rng(seed)),
    "perturb_max": lambda seed: make_mlp(5, np.random.default_rng(seed), inputs=6, classes=4),
}


@pytest.mark.parametrize("family", MODELS)
def test_a_round_trip_through_the_torch_dict_and_a_file_is_the_identity(family, tmp_path):
    source, target = MODELS[family](1), MODELS[family](2)
    state = torch_state(source)
    assert any(not np.array_equal(state[k], v) for k, v in torch_state(target).items())  # a round trip with work to do
    path = save(tmp_path / "weights.npz", state)
    load_torch_state(target, load(path))
    back = torch_state(target)
    assert list(back) == list(state)
    for key in state:
        np.testing.assert_array_equal(back[key], state[key], err_msg=key)


def test_the_renamed_families_use_torch_names():
    assert list(torch_state(word2vec(0))) == ["embedding.weight", "output.weight", "bias"]
    assert list(torch_state(word2vec(0, shared=True))) == ["embedding.weight"]
    assert list(torch_state(glove(GloVe, 0))) == ["word.weight", "context.weight", "word_bias", "context_bias"]
    assert list(torch_state(glove(SimplerGloVe, 0))) == ["word.weight"]
    assert "units.0.quantizer.c_sum" in torch_state(MODELS["transformer_vq"](0))


def test_bad_weights_name_the_key():
    model = glove(GloVe, 0)
    state = torch_state(model)
    with pytest.raises(KeyError, match="context_bias"):
        load_torch_state(model, {k: v for k, v in state.items() if k != "context_bias"})
    with pytest.raises(ValueError, match="context.weight"):
        load_torch_state(model, {**state, "context.weight": state["context.weight"][:3]})
    capsule = MODELS["capsule"](0)
    with pytest.raises(KeyError, match="capsules.weight"):
        load_torch_state(capsule, {k: v for k, v in torch_state(capsule).items() if k != "capsules.weight"})
    with pytest.raises(ValueError, match=r"\.safetensors or \.npz"):
        save("weights.pt", {})
    with pytest.raises(TypeError, match="model"):
        torch_state(object())


def test_safetensors_files(tmp_path):
    pytest.importorskip("safetensors")
    state = torch_state(MODELS["transformer_vq"](0))
    back = load(save(tmp_path / "weights.safetensors", state))
    assert sorted(back) == sorted(state)
    for key in state:
        np.testing.assert_array_equal(back[key], state[key])


@pytest.mark.torch
class TestIntoTorch:
    @pytest.fixture(autouse=True)
    def _torch(self):
        self.torch = pytest.importorskip("torch")

    def test_word2vec_tables_load_into_embeddings(self):
        torch = self.torch
        model = word2vec(0)
        theirs = torch.nn.ModuleDict({"embedding": torch.nn.Embedding(7, 4), "output": torch.nn.Embedding(7, 4)})
        theirs.register_parameter("bias", torch.nn.Parameter(torch.zeros(7)))
        theirs.load_state_dict({k: torch.from_numpy(v) for k, v in torch_state(model).items()})
        np.testing.assert_array_equal(theirs["embedding"].weight.detach().numpy(), model.vectors)
        load_torch_state(model, {k: v * 2 for k, v in theirs.state_dict().items()})
        np.testing.assert_array_equal(model.vectors, 2 * theirs["embedding"].weight.detach().numpy())

    @pytest.mark.parametrize("name", ["capsule", "cnn"])
    def test_capsule_networks_compute_the_same_scores_in_torch(self, name):
        torch = self.torch
        from scratch.crosscheck.torch_reference.capsule import torch_model

        ours = build_model("su2" if name == "capsule" else "cnn", WIDTHS, rng=np.random.default_rng(0))
        theirs = torch_model(name, WIDTHS, 3, "su2")
        theirs.load_state_dict({k: torch.from_numpy(v) for k, v in torch_state(ours).items()})
        images = np.random.default_rng(1).uniform(0, 1, (3, 1, 16, 16)).astype(np.float32)
        np.testing.assert_allclose(theirs(torch.from_numpy(images)).detach().numpy(), ours(images).data,
                                   rtol=1e-4, atol=1e-6)
        for p in theirs.parameters():
            p.data.mul_(0.5)
        load_torch_state(ours, theirs.state_dict())
        np.testing.assert_allclose(theirs(torch.from_numpy(images)).detach().numpy(), ours(images).data,
                                   rtol=1e-4, atol=1e-6)

    def test_the_mlp_loads_into_torch_sequential(self):
        torch = self.torch
        ours = MODELS["perturb_max"](0)
        theirs = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4))
        theirs.load_state_dict({k: torch.from_numpy(v) for k, v in torch_state(ours).items()})
        x = np.random.default_rng(2).standard_normal((3, 2, 3)).astype(np.float32)
        np.testing.assert_allclose(theirs(torch.from_numpy(x)).detach().numpy(), ours(x).data, rtol=1e-5, atol=1e-6)

    def test_transformer_blocks_run_from_the_dict_in_torch(self):
        torch = self.torch
        from scratch.crosscheck.torch_reference.transformer import block

        model = TransformerLM(TransformerConfig(vocab_size=20, dim=8, layers=2, heads=2, ffn_dim=12), dtype=np.float64)
        state = {k: torch.from_numpy(v) for k, v in torch_state(model).items()}
        x = np.random.default_rng(3).standard_normal((2, 7, 8))
        theirs = block(torch.from_numpy(x), position="rope", norm="rms", prenorm=True, activation="gelu",
                       **{k.removeprefix("blocks.1."): v for k, v in state.items() if k.startswith("blocks.1.")})
        np.testing.assert_allclose(theirs.numpy(), model.blocks[1](x).data, rtol=1e-10, atol=1e-12)

    def test_gated_attention_units_run_from_the_dict_in_torch(self):
        torch = self.torch
        from scratch.crosscheck.torch_reference.transformer_vq import gau

        model = TransformerVQ(TransformerVQConfig(vocab=20, d_model=8, d_k=4, layers=1, codebook_size=5, block=4),
                              rng=np.random.default_rng(4), dtype=np.float64)
        state = {k.removeprefix("units.1."): torch.from_numpy(v) for k, v in torch_state(model).items()
                 if k.startswith("units.1.")}
        codebook = state.pop("quantizer.c_sum") / state.pop("quantizer.c_count").clamp(min=0.01)[:, None]
        x = np.random.default_rng(5).standard_normal((2, 11, 8))
        theirs = gau(torch.from_numpy(x), codebook, block=4, window=4, **state)
        np.testing.assert_allclose(theirs["y"].numpy(), model.units[1](x).data, rtol=1e-10, atol=1e-12)
