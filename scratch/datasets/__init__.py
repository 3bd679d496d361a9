"""The project's real data: text corpora and vocabularies, evaluation sets, MNIST-style images,
language-model streams. Pure NumPy; the files live in ``data/`` (``python scripts/fetch_data.py``)."""
from .evaluation import AnalogySection, Analogies, load_analogies, load_word_pairs
from .lm import char_vocab, load_text, load_text_bytes, random_batches, sequential_batches, train_val_split
from .mnist import load_mnist
from .paths import data_dir, data_path
from .text import TokenChunk, Vocab, iter_lines, iter_token_chunks, load_corpus, subsample_keep_probs, tokenize

__all__ = [
    "AnalogySection", "Analogies", "load_analogies", "load_word_pairs",
    "char_vocab", "load_text", "load_text_bytes", "random_batches", "sequential_batches", "train_val_split",
    "load_mnist",
    "data_dir", "data_path",
    "TokenChunk", "Vocab", "iter_lines", "iter_token_chunks", "load_corpus", "subsample_keep_probs", "tokenize",
]
