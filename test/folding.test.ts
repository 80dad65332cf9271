/**
 * Folding of pure text calls (src/pickle/folding.ts): each result is what CPython computes, and a
 * call CPython refuses folds to nothing (so no payload is made up from what a load would not make).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { foldCodecsEncode, foldMethod } from "../src/pickle/folding.js";

const b = (s: string): Buffer => Buffer.from(s, "latin1");
const text = (v: unknown): unknown => (v instanceof Uint8Array ? `b:${Buffer.from(v).toString("latin1")}` : v);

test("str and bytes methods compute what CPython does", () => {
  // Values checked against CPython 3.11.
  assert.equal(text(foldMethod("builtins.bytes", "translate", [b("abcabc"), null, b("b")])), "b:acac");
  assert.equal(text(foldMethod("builtins.str", "translate", ["abc", new Map<number, string | number | null>([[97, "xy"], [98, null], [99, 100]])])), "xyd");
  assert.equal(text(foldMethod("builtins.bytes", "replace", [b("aaaa"), b("a"), b("b"), 2])), "b:bbaa");
  assert.equal(text(foldMethod("builtins.str", "replace", ["a-b-c", "-", ""])), "abc");
  assert.equal(text(foldMethod("builtins.str", "join", ["/", ["a", "b", "c"]])), "a/b/c");
  assert.equal(text(foldMethod("builtins.bytes", "swapcase", [b("aB1")])), "b:Ab1");
  assert.equal(text(foldMethod("builtins.str", "strip", ["  x \n"])), "x");
  assert.equal(text(foldMethod("builtins.str", "rstrip", ["  x \n"])), "  x");
  assert.equal(text(foldMethod("builtins.str", "strip", ["\x1f\x85x\ufeff"])), "x\ufeff"); // str.isspace, not JavaScript's trim
  assert.equal(text(foldMethod("builtins.bytes", "strip", [b("\xa0x\x0b")])), "b:\xa0x"); // bytes: ASCII whitespace only
  assert.equal(text(foldMethod("builtins.str", "lstrip", ["xxyx-a", "xy"])), "-a");
  assert.equal(text(foldMethod("builtins.bytes", "decode", [b("\xfe\xff\x00h"), "utf-16"])), "h"); // big-endian mark
  assert.equal(text(foldMethod("builtins.str", "encode", ["h", "utf-16-be"])), "b:\x00h");
  assert.equal(text(foldMethod("builtins.int", "to_bytes", [0, 0])), "b:");
  assert.equal(text(foldMethod("builtins.str", "removesuffix", ["abc", "bc"])), "a");
  assert.equal(text(foldMethod("builtins.str", "removesuffix", ["abc", ""])), "abc");
  assert.equal(text(foldMethod("builtins.bytes", "fromhex", ["41 42\n43"])), "b:ABC");
  assert.equal(text(foldMethod("builtins.str", "encode", ["hé", "utf-16"])), "b:\xff\xfeh\x00\xe9\x00");
  assert.equal(text(foldMethod("builtins.bytes", "decode", [b("h\x00\xe9\x00"), "utf-16-le"])), "hé");
  assert.equal(text(foldMethod("builtins.int", "to_bytes", [258, 2, "little"])), "b:\x02\x01");
  assert.equal(text(foldMethod("builtins.int", "to_bytes", [258, 3])), "b:\x00\x01\x02");
  assert.equal(text(foldCodecsEncode(["Uryyb", "ROT-13"])), "Hello");
  assert.equal(text(foldCodecsEncode([b("AB"), "hex_codec"])), "b:4142");
});

test("what CPython refuses folds to nothing", () => {
  assert.equal(foldMethod("builtins.int", "to_bytes", [65536, 2, "big"]), undefined); // OverflowError
  assert.equal(foldMethod("builtins.int", "to_bytes", [-1, 2, "big"]), undefined); // negative without signed=True
  assert.equal(foldMethod("builtins.str", "encode", ["x", "rot13"]), undefined); // rot13 makes str, encode must make bytes
  assert.equal(foldMethod("builtins.str", "decode", ["x", "utf-8"]), undefined); // str has no decode
  assert.equal(foldMethod("builtins.bytes", "decode", [b("\xff"), "utf-8"]), undefined); // strict decoder
  assert.equal(foldMethod("builtins.bytes", "decode", [b("4142"), "hex"]), undefined); // not a text encoding
  assert.equal(foldMethod("builtins.bytes", "fromhex", ["414"]), undefined); // odd digits
  assert.equal(foldMethod("builtins.bytes", "translate", [b("ab"), b("short")]), undefined); // table must be 256 bytes
  assert.equal(foldMethod("builtins.str", "join", ["", [b("a")]]), undefined); // bytes items in a str join
  assert.equal(foldMethod("builtins.str", "upper", [b("a")]), undefined); // a str method on bytes
  assert.equal(foldMethod("builtins.bytes", "format", [b("{}")]), undefined); // not folded at all
  assert.equal(foldMethod("builtins.str", "translate", ["a", new Map([[97, 0x110000]])]), undefined); // ValueError, not a crash
  assert.equal(foldMethod("builtins.str", "translate", ["a", new Map([[97, -5]])]), undefined);
  assert.equal(foldMethod("builtins.bytes", "fromhex", ["4 142"]), undefined); // whitespace inside a pair
  assert.equal(foldMethod("builtins.bytearray", "translate", [b("ab"), null]), undefined); // bytearray's methods refuse bytes
});
