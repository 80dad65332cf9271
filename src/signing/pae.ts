/**
 * DSSE pre-authentication encoding, the bytes a DSSE signature covers, and the variant that
 * model_signing 0.2 signed by mistake (kept so that its signatures still verify).
 */

/** https://github.com/secure-systems-lab/dsse/blob/v1.0.0/protocol.md: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body. */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/**
 * model_signing 0.2 formatted the payload bytes into a Python string, so it signed "DSSEV1", the
 * lengths, and the payload's Python repr (b'…' with escapes) instead of the payload itself.
 */
export function preAuthEncodingV02(payloadType: string, payload: Uint8Array): Buffer {
  return Buffer.from(`DSSEV1 ${payloadType.length} ${payloadType} ${payload.length} ${pythonBytesRepr(payload)}`, "utf8");
}

/** Python's repr() of a bytes object: single quotes unless the bytes hold ' and no ", escapes as CPython writes them. */
export function pythonBytesRepr(bytes: Uint8Array): string {
  const hasSingle = bytes.includes(0x27);
  const quote = hasSingle && !bytes.includes(0x22) ? '"' : "'";
  let out = "b" + quote;
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    if (c === quote || c === "\\") out += "\\" + c;
    else if (c === "\t") out += "\\t";
    else if (c === "\n") out += "\\n";
    else if (c === "\r") out += "\\r";
    else if (b < 0x20 || b >= 0x7f) out += "\\x" + b.toString(16).padStart(2, "0");
    else out += c;
  }
  return out + quote;
}
