/** A minimal protobuf writer, for tests that build hostile or hand-shaped ONNX and TensorFlow messages. */
export const pb = {
  varint(n: number): number[] {
    const out: number[] = [];
    do {
      out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      n = Math.floor(n / 128);
    } while (n > 0);
    return out;
  },
  /** A varint field. */
  num(field: number, n: number): number[] {
    return [...pb.varint(field * 8), ...pb.varint(n)];
  },
  /** A length-delimited field: bytes, a string or an embedded message. */
  len(field: number, payload: number[] | string): number[] {
    const bytes = typeof payload === "string" ? [...Buffer.from(payload)] : payload;
    return [...pb.varint(field * 8 + 2), ...pb.varint(bytes.length), ...bytes];
  },
};
