#!/usr/bin/env python3
"""Regenerates ../vectors_test.go: password-hash test vectors for package
hashes, each made by an implementation independent of Go's.

Not run by the tests. The vectors it printed are committed; running it again
gives new random salts (and so a different file) but equally valid vectors.

Tools it uses, all from Debian bookworm unless said (what each vector used is
recorded in its `source` field):
  python3 (3.x, hashlib over OpenSSL)   md5, sha1, sha512, pbkdf2_hmac, scrypt
  /usr/bin/python3 + python3-passlib    phpass, scrypt and pbkdf2 PHC strings
  /usr/bin/python3 + python3-bcrypt     bcrypt $2b$
  php-cli 8.2 (libargon2, crypt_blowfish) password_hash argon2i/argon2id/bcrypt
  argon2 (the reference CLI, phc-winner-argon2) raw argon2 keys
  apache2-utils htpasswd -B              bcrypt $2y$
and published values quoted with their source (RFC 7914, PHP manual, passlib
and John the Ripper test suites), which the script re-checks with the tools
above before writing them out.

  apt-get install php-cli apache2-utils argon2 python3-passlib python3-bcrypt
  python3 internal/hashes/testdata/gen_vectors.py > internal/hashes/vectors_test.go
  gofmt -w internal/hashes/vectors_test.go
"""
import base64
import hashlib
import json
import os
import subprocess
import sys

SYS_PY = "/usr/bin/python3"
PW_A = "correct horse battery staple"
PW_U = "pässwörd✓ 🔑"  # multi-byte UTF-8, including a non-BMP rune
PW_H = "hunter2"

out = []


def g(s):
    """A Go string literal."""
    return json.dumps(s, ensure_ascii=False)


def run(argv, stdin=None):
    return subprocess.run(argv, input=stdin, capture_output=True, check=True, text=True).stdout


def php(code, *args):
    return run(["php", "-r", code, "--", *args]).strip()


def syspy(code, *args):
    return run([SYS_PY, "-c", code, *args]).strip()


def b64(b):
    return base64.b64encode(b).decode()


def b64raw(b):
    return base64.b64encode(b).decode().rstrip("=")


def b64url_raw(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def vec(name, source, password, hash_type, hash_, config_field=None, config=None, want=""):
    cfg = ""
    if config_field:
        inner = ", ".join(f"{k}: {v if isinstance(v, int) else g(v)}" for k, v in config.items())
        cfg = f", {config_field}: &{config_field}Config{{{inner}}}"
    out.append(
        f"\t{{name: {g(name)}, source: {g(source)}, password: {g(password)},\n"
        f"\t\tm: Migration{{HashType: {g(hash_type)}, Hash: {g(hash_)}{cfg}}}, want: {g(want)}}},"
    )


# ---- md_5, sha_1, sha_512: hashlib -------------------------------------------
def digests():
    for ht, field, alg, prefix in [
        ("md_5", "MD5", "md5", "$latch-md5$"),
        ("sha_1", "SHA1", "sha1", "$latch-sha1$"),
        ("sha_512", "SHA512", "sha512", "$latch-sha512$"),
    ]:
        src = f"python3 hashlib.{alg}(prepend+password+append)"
        d = hashlib.new(alg, PW_H.encode()).digest()
        vec(f"{ht} unsalted hex", src, PW_H, ht, d.hex(), want=f"{prefix}$${d.hex()}")
        pre, app = "s4lt$", "!pepper"
        d = hashlib.new(alg, (pre + PW_A + app).encode()).digest()
        cfg = {"PrependSalt": pre, "AppendSalt": app}
        w = f"{prefix}{b64raw(pre.encode())}${b64raw(app.encode())}${d.hex()}"
        vec(f"{ht} salted HEX upper", src, PW_A, ht, d.hex().upper(), field, cfg, w)
        vec(f"{ht} salted base64 std padded", src, PW_A, ht, b64(d), field, cfg, w)
        vec(f"{ht} salted base64url unpadded", src, PW_A, ht, b64url_raw(d), field, cfg, w)
        d = hashlib.new(alg, ("ünï" + PW_U).encode()).digest()
        vec(f"{ht} utf-8 prepend only", src, PW_U, ht, b64(d), field, {"PrependSalt": "ünï", "AppendSalt": ""})


# ---- pbkdf_2: hashlib, passlib, RFC 7914 --------------------------------------
def pbkdf2():
    src = "python3 hashlib.pbkdf2_hmac"
    salt = os.urandom(16)
    k = hashlib.pbkdf2_hmac("sha256", PW_A.encode(), salt, 1000, 32)
    vec("pbkdf_2 sha256 default algorithm, base64", src, PW_A, "pbkdf_2", b64(k), "PBKDF2",
        {"Salt": b64(salt), "IterationAmount": 1000, "KeyLength": 32, "Algorithm": ""},
        f"$pbkdf2-sha256$i=1000${b64raw(salt)}${b64raw(k)}")
    salt = os.urandom(24)
    k = hashlib.pbkdf2_hmac("sha512", PW_U.encode(), salt, 2000, 64)
    vec("pbkdf_2 sha512 hex", src, PW_U, "pbkdf_2", k.hex(), "PBKDF2",
        {"Salt": b64raw(salt), "IterationAmount": 2000, "KeyLength": 64, "Algorithm": "sha512"},
        f"$pbkdf2-sha512$i=2000${b64raw(salt)}${b64raw(k)}")
    # RFC 7914 section 11: PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1, dkLen=64.
    rfc = bytes.fromhex(
        "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
    assert hashlib.pbkdf2_hmac("sha256", b"passwd", b"salt", 1, 64) == rfc
    vec("pbkdf_2 RFC 7914 s11", "RFC 7914 section 11 (re-checked with python3 hashlib)", "passwd", "pbkdf_2",
        b64(rfc), "PBKDF2", {"Salt": b64(b"salt"), "IterationAmount": 1, "KeyLength": 64, "Algorithm": "sha256"})
    h = syspy("import sys; from passlib.hash import pbkdf2_sha256 as h; print(h.using(rounds=1200).hash(sys.argv[1]))", PW_H)
    vec("pbkdf_2 passlib PHC (adapted base64)", "passlib 1.7.4 pbkdf2_sha256.hash", PW_H, "pbkdf_2", h)
    h = syspy("import sys; from passlib.hash import pbkdf2_sha512 as h; print(h.using(rounds=1100).hash(sys.argv[1]))", PW_A)
    vec("pbkdf_2 passlib PHC sha512", "passlib 1.7.4 pbkdf2_sha512.hash", PW_A, "pbkdf_2", h)


# ---- scrypt: hashlib (OpenSSL), passlib, RFC 7914 -----------------------------
def scrypt():
    src = "python3 hashlib.scrypt (OpenSSL)"
    salt = os.urandom(16)
    k = hashlib.scrypt(PW_A.encode(), salt=salt, n=1024, r=8, p=1, dklen=32)
    vec("scrypt N=1024 base64", src, PW_A, "scrypt", b64(k), "Scrypt",
        {"Salt": b64(salt), "N": 1024, "R": 8, "P": 1, "KeyLength": 32},
        f"$scrypt$ln=10,r=8,p=1${b64raw(salt)}${b64raw(k)}")
    salt = os.urandom(32)
    k = hashlib.scrypt(PW_U.encode(), salt=salt, n=2048, r=4, p=2, dklen=64)
    vec("scrypt N=2048 hex, url-safe salt", src, PW_U, "scrypt", k.hex(), "Scrypt",
        {"Salt": b64url_raw(salt), "N": 2048, "R": 4, "P": 2, "KeyLength": 64})
    # RFC 7914 section 12, second vector.
    rfc = bytes.fromhex(
        "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
        "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")
    assert hashlib.scrypt(b"password", salt=b"NaCl", n=1024, r=8, p=16, dklen=64) == rfc
    vec("scrypt RFC 7914 s12", "RFC 7914 section 12 (re-checked with python3 hashlib.scrypt)", "password", "scrypt",
        b64(rfc), "Scrypt", {"Salt": b64(b"NaCl"), "N": 1024, "R": 8, "P": 16, "KeyLength": 64})
    h = syspy("import sys; from passlib.hash import scrypt as h; print(h.using(rounds=11, block_size=8, parallelism=1).hash(sys.argv[1]))", PW_H)
    vec("scrypt passlib PHC", "passlib 1.7.4 scrypt.hash (hashlib backend)", PW_H, "scrypt", h)


# ---- argon_2i / argon_2id: PHP (libargon2), reference argon2 CLI ---------------
def argon2():
    for ht, const, cli in [("argon_2i", "PASSWORD_ARGON2I", "-i"), ("argon_2id", "PASSWORD_ARGON2ID", "-id")]:
        h = php(f'echo password_hash($argv[1], {const}, ["memory_cost"=>4096,"time_cost"=>3,"threads"=>1]);', PW_A)
        vec(f"{ht} PHP PHC", f"php 8.2 password_hash {const} m=4096 t=3 p=1", PW_A, ht, h, want=h)
        h = php(f'echo password_hash($argv[1], {const}, ["memory_cost"=>2048,"time_cost"=>2,"threads"=>2]);', PW_U)
        vec(f"{ht} PHP PHC p=2", f"php 8.2 password_hash {const} m=2048 t=2 p=2", PW_U, ht, h, want=h)
        salt = "saltysalt-" + os.urandom(4).hex()
        res = run(["argon2", salt, cli, "-t", "2", "-k", "1024", "-p", "1", "-l", "32"], stdin=PW_H)
        fields = dict(line.split(":\t", 1) for line in res.splitlines() if ":\t" in line)
        raw = bytes.fromhex(fields["Hash"].strip())
        vec(f"{ht} raw key + config", f"argon2 CLI {cli} -t 2 -k 1024 -p 1 -l 32 (salt as raw string)", PW_H, ht,
            b64(raw), "Argon2", {"Salt": salt, "IterationAmount": 2, "Memory": 1024, "Threads": 1, "KeyLength": 32},
            fields["Encoded"].strip())
    salt = "0123456789abcdef"
    res = run(["argon2", salt, "-id", "-t", "1", "-k", "256", "-p", "2", "-l", "24"], stdin=PW_A)
    fields = dict(line.split(":\t", 1) for line in res.splitlines() if ":\t" in line)
    raw = bytes.fromhex(fields["Hash"].strip())
    vec("argon_2id raw key unpadded, 24 bytes, p=2", "argon2 CLI -id -t 1 -k 256 -p 2 -l 24", PW_A, "argon_2id",
        b64raw(raw), "Argon2", {"Salt": salt, "IterationAmount": 1, "Memory": 256, "Threads": 2, "KeyLength": 24},
        fields["Encoded"].strip())


# ---- bcrypt: PHP, htpasswd, python3-bcrypt, PHP manual -------------------------
def bcrypt():
    h = php('echo password_hash($argv[1], PASSWORD_BCRYPT, ["cost"=>10]);', PW_A)
    vec("bcrypt $2y$ cost 10", "php 8.2 password_hash PASSWORD_BCRYPT cost 10", PW_A, "bcrypt", h, want=h)
    h = php('echo crypt($argv[1], "$2a$05$" . substr(strtr(base64_encode(random_bytes(16)), "+", "."), 0, 22));', PW_U)
    vec("bcrypt $2a$ cost 5", "php 8.2 crypt() with a $2a$05$ salt", PW_U, "bcrypt", h, want=h)
    h = run(["htpasswd", "-nbB", "-C", "6", "u", PW_H]).strip().split(":", 1)[1]
    vec("bcrypt htpasswd", "htpasswd -nbB -C 6 (apache2-utils)", PW_H, "bcrypt", h, want=h)
    h = syspy("import sys, bcrypt; print(bcrypt.hashpw(sys.argv[1].encode(), bcrypt.gensalt(4)).decode())", PW_A)
    vec("bcrypt $2b$ python bcrypt", "python3-bcrypt hashpw gensalt(4)", PW_A, "bcrypt", h, want=h)
    long_pw = "x" * 72 + "ignored-beyond-72-bytes"
    h = php('echo password_hash($argv[1], PASSWORD_BCRYPT, ["cost"=>4]);', long_pw)
    vec("bcrypt >72-byte password", "php 8.2 password_hash cost 4 (bcrypt reads 72 bytes)", long_pw, "bcrypt", h, want=h)
    h = "$2a$07$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi"
    assert php('echo password_verify($argv[1], $argv[2]) ? "1" : "0";', "rasmuslerdorf", h) == "1"
    vec("bcrypt PHP manual crypt() example", "PHP manual, crypt() Blowfish example", "rasmuslerdorf", "bcrypt", h, want=h)


# ---- phpass: published passlib / John the Ripper vectors, passlib -------------
def phpass():
    published = [
        ("test12345", "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0", "Openwall phpass test.php, via passlib test suite"),
        ("compL3X!", "$P$FiS0N5L672xzQx1rt1vgdJQRYKnQM9/", "passlib test suite"),
        ("", "$P$7JaFQsPzJSuenezefD/3jHgt5hVfNH0", "passlib test suite"),
        ("test1", "$H$9aaaaaSXBjgypwqm.JsMssPLiS8YQ00", "John the Ripper 1.7.9, via passlib test suite"),
        ("123456", "$H$9PE8jEklgZhgLmZl5.HYJAzfGCQtzi1", "John the Ripper 1.7.9, via passlib test suite"),
        ("thisisalongertestPW", "$P$912345678LIjjb6PhecupozNBmDndU0", "John the Ripper 1.7.9, via passlib test suite"),
        ("JohnRipper", "$P$B12345678L6Lpt4BxNotVIMILOa9u81", "John the Ripper 1.7.9, via passlib test suite"),
        ("JohnRipper", "$H$712345678WhEyvy1YWzT4647jzeOmo0", "John the Ripper 1.7.9, via passlib test suite"),
    ]
    for pw, h, src in published:
        ok = syspy("import sys; from passlib.hash import phpass; print(phpass.verify(sys.argv[1], sys.argv[2]))", pw, h)
        assert ok == "True", (pw, h)
        vec(f"phpass published {h[:4]} {pw or '(empty)'}", src + " (re-checked with passlib 1.7.4)", pw, "phpass", h, want=h)
    for ident, rounds in [("P", 13), ("H", 11)]:
        h = syspy("import sys; from passlib.hash import phpass; print(phpass.using(ident=sys.argv[2], rounds=int(sys.argv[3])).hash(sys.argv[1]))",
                  PW_U, ident, str(rounds))
        vec(f"phpass passlib ${ident}$ utf-8", f"passlib 1.7.4 phpass.hash ident={ident} rounds={rounds}", PW_U, "phpass", h, want=h)


def main():
    digests()
    pbkdf2()
    scrypt()
    argon2()
    bcrypt()
    phpass()
    print("// Code generated by testdata/gen_vectors.py; DO NOT EDIT.")
    print("// Each vector was made by an implementation independent of this package")
    print("// and of Go's; its source field names which. See testdata/gen_vectors.py.")
    print()
    print("package hashes")
    print()
    print("var vectors = []vector{")
    print("\n".join(out))
    print("}")


if __name__ == "__main__":
    sys.exit(main())
