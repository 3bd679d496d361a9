"""Making data/: markup cleaning, sentence splitting, source readers, deterministic writers, archives.
Everything here runs on small inputs made in the test; nothing is downloaded."""
import gzip
import io
import tarfile
import zipfile

import numpy as np
import pytest

from scratch.datasets.prepare.writers import gzip_lines, npz_bytes, write_atomic
from scratch.datasets.prepare.prose import paragraphs, sentences, split_sentences
from scratch.datasets.prepare.registry import Package, read_member, sha256
from scratch.datasets.prepare.sources import bible_verses, dictionary_sentences, idx_array, mnist_csv
from scratch.datasets.prepare.wikitext import article_paragraphs, iter_articles

MARKUP = """{{Infobox person|name=Ada|spouse={{nowrap|William King}}}}
'''Ada Lovelace''' was an [[England|English]] [[mathematician]].<ref name="a">{{cite book|title=Ada}}</ref> She wrote [[Note G|the first program]].<ref name="b" />
<!-- a hidden comment -->
== Life ==
[[File:Ada.jpg|thumb|A portrait of [[Ada Lovelace|Ada]] [circa 1840].]]
* She met [[Charles Babbage]] in 1833; see [http://example.org the archive].
{| class="wikitable"
| a cell || another
|}
Her <math>x^2</math> notes&nbsp;survive.
[[Category:Mathematicians]]
[[de:Ada Lovelace]]
"""


def test_article_paragraphs_keep_only_prose():
    assert article_paragraphs(MARKUP) == [
        "Ada Lovelace was an English mathematician. She wrote the first program.",
        "She met Charles Babbage in 1833; see the archive.",
        "Her notes survive.",
    ]


def test_iter_articles_skips_redirects_and_other_namespaces():
    page = "<page><title>{t}</title><ns>{ns}</ns>{extra}<revision><text>{body}</text></revision></page>"
    xml = ('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/">'
           + page.format(t="Ada", ns=0, extra="", body="Ada &lt;ref&gt;x&lt;/ref&gt; text")
           + page.format(t="AdaL", ns=0, extra='<redirect title="Ada" />', body="#REDIRECT [[Ada]]")
           + page.format(t="Talk:Ada", ns=1, extra="", body="chat")
           + "</mediawiki>")
    assert list(iter_articles(io.BytesIO(xml.encode()))) == [("Ada", "Ada <ref>x</ref> text")]


def test_prose_is_cut_into_paragraphs_and_sentences():
    text = "First line\nof a paragraph. Then\n  another one!\n\n\"Quoted.\" 2 more words? yes ok.\n"
    assert paragraphs(text) == ["First line of a paragraph. Then another one!", '"Quoted." 2 more words? yes ok.']
    assert split_sentences(paragraphs(text)[1]) == ['"Quoted."', "2 more words? yes ok."]
    assert list(sentences(paragraphs(text))) == ["First line of a paragraph.", "Then another one!",
                                                 "2 more words? yes ok."]


def test_source_readers():
    assert bible_verses('{"text": "In the  beginning"}\n{"text": "God"}\n') == ["In the beginning", "God"]
    entry = 'Abdicator \\Ab"di*ca`tor\\, n.\n   One who abdicates a throne.\n   [1913 Webster]\n\nAb\n'
    assert list(dictionary_sentences(entry)) == ["One who abdicates a throne."]
    rows = np.arange(2 * 785).reshape(2, 785) % 256
    images, labels = mnist_csv(gzip.compress("\n".join(",".join(map(str, r)) for r in rows).encode()))
    assert images.shape == (2, 28, 28) and images.dtype == np.uint8 and labels.tolist() == [rows[0, -1], rows[1, -1]]
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    header = bytes([0, 0, 8, 3]) + np.array([2, 3, 4], dtype=">u4").tobytes()
    np.testing.assert_array_equal(idx_array(gzip.compress(header + array.tobytes())), array)
    with pytest.raises(ValueError, match="IDX"):
        idx_array(gzip.compress(b"\x00\x00\x0d\x01"))


def test_writers_are_deterministic_and_round_trip(tmp_path):
    assert gzip_lines(["a b", "é"]) == gzip_lines(["a b", "é"])
    assert gzip.decompress(gzip_lines(["a b", "é"])).decode() == "a b\né\n"
    arrays = {"images": np.arange(12, dtype=np.uint8).reshape(3, 4), "labels": np.array([1, 2, 3], np.uint8)}
    assert npz_bytes(**arrays) == npz_bytes(**arrays)
    path = write_atomic(tmp_path / "sub" / "a.npz", npz_bytes(**arrays))
    with np.load(path, allow_pickle=False) as archive:
        for name, array in arrays.items():
            np.testing.assert_array_equal(archive[name], array)
    assert list(tmp_path.joinpath("sub").iterdir()) == [path]


def test_read_member_from_wheels_and_sdists(tmp_path):
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("pkg/data/words.txt", "hello")
    sdist = tmp_path / "pkg-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        info = tarfile.TarInfo("pkg-1.0/words.txt")
        info.size = 5
        archive.addfile(info, io.BytesIO(b"howdy"))
    assert read_member(wheel, "pkg/data/words.txt") == b"hello"
    assert read_member(sdist, "pkg-1.0/words.txt") == b"howdy"
    with pytest.raises(KeyError, match="no file pkg-1.0/other.txt"):
        read_member(sdist, "pkg-1.0/other.txt")


def test_a_cached_download_is_checked_against_its_pinned_sha256(tmp_path):
    (tmp_path / "pkg-1.0.tar.gz").write_bytes(b"contents")
    package = Package("pypi", "pkg", "1.0", "pkg-1.0.tar.gz", sha256(tmp_path / "pkg-1.0.tar.gz"))
    assert package.download(tmp_path) == tmp_path / "pkg-1.0.tar.gz"
    tampered = Package("pypi", "pkg", "1.0", "pkg-1.0.tar.gz", "0" * 64)
    with pytest.raises(ValueError, match="pkg-1.0.tar.gz has sha256 .* expected 0+ for pkg 1.0"):
        tampered.download(tmp_path)
