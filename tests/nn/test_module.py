"""Module registration, traversal order, modes, buffers and state_dict round trips."""
import numpy as np
import pytest

from scratch import Tensor, nn


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Linear(dim, dim, rng=np.random.default_rng(1))
        self.gain = nn.Parameter(np.ones(dim, np.float32))

    def forward(self, x):
        return self.proj(x) * self.gain


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(3, 4, rng=np.random.default_rng(0))
        self.scale = nn.Parameter(np.ones(4, np.float32))
        self.blocks = [Block(4), Block(4)]
        self.head = nn.Linear(4, 2, bias=False, rng=np.random.default_rng(2))
        self.register_buffer("ema", np.zeros(2))

    def forward(self, x):
        x = self.embed(x) * self.scale
        for block in self.blocks:
            x = block(x)
        return self.head(x)


NET_NAMES = [
    "embed.weight", "embed.bias", "scale",
    "blocks.0.proj.weight", "blocks.0.proj.bias", "blocks.0.gain",
    "blocks.1.proj.weight", "blocks.1.proj.bias", "blocks.1.gain",
    "head.weight",
]


def test_named_parameters_follow_assignment_order_with_dotted_names():
    net = Net()
    assert [name for name, _ in net.named_parameters()] == NET_NAMES
    assert [p.shape for p in net.parameters()][:3] == [(4, 3), (4,), (4,)]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())


def test_list_of_modules_becomes_a_module_list():
    net = Net()
    assert isinstance(net.blocks, nn.ModuleList)
    assert len(net.blocks) == 2 and isinstance(net.blocks[1], Block) and net.blocks[-1] is net.blocks[1]
    assert [type(m).__name__ for m in net.children()] == ["Linear", "ModuleList", "Linear"]


def test_modules_lists_every_module_once_depth_first():
    net = Net()
    names = [name for name, _ in net.named_modules()]
    assert names == ["", "embed", "blocks", "blocks.0", "blocks.0.proj", "blocks.1", "blocks.1.proj", "head"]
    assert len(list(net.modules())) == len(names)


def test_shared_parameters_and_modules_are_listed_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Linear(3, 3)
            self.decoder = self.encoder
            self.weight = self.encoder.weight

    tied = Tied()
    assert [name for name, _ in tied.named_parameters()] == ["encoder.weight", "encoder.bias"]
    assert tied.num_parameters() == 12


def test_num_parameters_counts_scalars():
    assert Net().num_parameters() == (12 + 4) + 4 + 2 * (16 + 4 + 4) + 8


def test_train_and_eval_reach_every_descendant():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.train(False)
    assert not net.blocks[0].proj.training


def test_zero_grad_clears_every_gradient():
    net = Net()
    net(np.ones((2, 3), np.float32)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_sequential_chains_and_indexes():
    first, second = nn.Linear(3, 4), nn.Linear(4, 2)
    seq = nn.Sequential(first, second)
    x = np.ones((5, 3), np.float32)
    np.testing.assert_array_equal(seq(x).data, second(first(x)).data)
    assert len(seq) == 2 and seq[0] is first and list(seq) == [first, second]
    assert [name for name, _ in seq.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_lists_mixing_parameters_with_other_values_are_refused():
    net = Net()
    with pytest.raises(TypeError, match="'extra' is a list holding Parameters or Modules mixed"):
        net.extra = [nn.Parameter(np.zeros(2))]
    with pytest.raises(TypeError, match="'pair' is a tuple"):
        net.pair = (nn.Linear(2, 2), 3)
    net.sizes = [3, 4]
    assert net.sizes == [3, 4] and [name for name, _ in net.named_parameters()] == NET_NAMES


def test_module_list_append_and_extend_register():
    layers = nn.ModuleList()
    layers.append(nn.Linear(2, 2)).extend([nn.Linear(2, 3)])
    assert [name for name, _ in layers.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    with pytest.raises(TypeError, match="ModuleList holds Modules"):
        layers.append(np.zeros(2))


def test_reassigning_a_parameter_name_needs_a_parameter_or_none():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="'weight' is a registered Parameter"):
        layer.weight = layer.weight * 2
    layer.bias = None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    del layer.weight
    assert list(layer.parameters()) == []


def test_assigning_before_super_init_is_a_clear_error():
    class Forgetful(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(1))

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Forgetful()


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        nn.Module()(1)


def test_parameter_keeps_dtype_and_rejects_integers():
    assert nn.Parameter(np.zeros(3, np.float32)).dtype == np.float32
    with pytest.raises(TypeError, match="floating dtype"):
        nn.Parameter(np.zeros(3, np.int64))


def test_buffers_are_arrays_in_the_state_dict():
    net = Net()
    net.ema = Tensor(np.full(2, 0.5))
    assert isinstance(net.ema, np.ndarray)
    assert dict(net.named_buffers()).keys() == {"ema"}
    state = net.state_dict()
    assert list(state) == NET_NAMES + ["ema"]
    np.testing.assert_array_equal(state["ema"], [0.5, 0.5])
    with pytest.raises(ValueError, match="already has an attribute"):
        net.register_buffer("scale", np.zeros(1))
    with pytest.raises(TypeError, match="'ema' is a buffer"):
        net.ema = nn.Parameter(np.zeros(2))


def test_state_dict_holds_copies():
    net = Net()
    state = net.state_dict()
    state["scale"][:] = 7
    assert np.all(net.scale.data == 1)


def test_state_dict_round_trip_restores_outputs_and_buffers():
    source, target = Net(), Net()
    for p in target.parameters():
        p.data = p.data + 1
    source.ema[:] = [1.0, 2.0]
    x = np.random.default_rng(3).standard_normal((5, 3)).astype(np.float32)
    result = target.load_state_dict(source.state_dict())
    assert result == nn.IncompatibleKeys([], [])
    np.testing.assert_array_equal(target(x).data, source(x).data)
    np.testing.assert_array_equal(target.ema, [1.0, 2.0])
    assert target.scale.dtype == np.float32


def test_load_casts_to_the_module_dtype():
    layer = nn.Linear(2, 2)
    layer.load_state_dict({k: v.astype(np.float64) for k, v in layer.state_dict().items()})
    assert layer.weight.dtype == np.float32


def test_load_reports_missing_and_unexpected_keys():
    net = Net()
    state = net.state_dict()
    del state["head.weight"]
    state["head.bias"] = np.zeros(2)
    with pytest.raises(KeyError, match=r"missing keys \['head.weight'\], unexpected keys \['head.bias'\]"):
        net.load_state_dict(state)
    assert net.load_state_dict(state, strict=False) == nn.IncompatibleKeys(["head.weight"], ["head.bias"])


def test_load_shape_mismatch_names_the_key_and_changes_nothing():
    net = Net()
    before = net.state_dict()
    state = {k: v + 1 for k, v in before.items()}
    state["blocks.1.gain"] = np.ones(5)
    with pytest.raises(ValueError, match=r"'blocks.1.gain' has shape \(5,\) in the state, \(4,\) in the module"):
        net.load_state_dict(state)
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_repr_shows_the_tree():
    text = repr(nn.Sequential(nn.Linear(2, 3), nn.ReLU()))
    assert text == "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): ReLU()\n)"
