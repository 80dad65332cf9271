/**
 * What torch pickles a storage as outside torch.save (Storage.__reduce__: pickle.dump, deepcopy, a
 * DataLoader worker): `torch.storage._load_from_bytes(b)`, where b is torch.save's legacy stream of
 * that one storage. torch.load of such bytes returns the storage, a block of numbers; of any other
 * bytes, whatever their pickles build.
 */
import { PickleAnalyst } from "../pickle/analyst.js";
import { Machine } from "../pickle/machine.js";
import { StreamReader } from "../pickle/reader.js";
import { isSym } from "../pickle/values.js";
import type { ByteSource } from "../sources/byteSource.js";
import { isTarHeader } from "./tar.js";

/** The legacy layout's pickles before the object's: magic number, protocol version, system info. */
const LEADING_PICKLES = 3;
/** A tar header's block: torch.load opens bytes that start with one as its oldest, tar layout. */
const TAR_BLOCK = 512;

/**
 * Whether torch.load of `source` returns a storage it holds: no zip or tar (torch.load reads those
 * first, and returns what they hold), and the object pickle after the three leading ones is a
 * persistent id alone. What the pickles do is scanned as the bytes' own member; this only says
 * what the load hands back.
 */
export async function loadsOneStorage(source: ByteSource): Promise<boolean> {
  const head = await source.read(0, TAR_BLOCK);
  if ((head[0] === 0x50 && head[1] === 0x4b) || isTarHeader(head)) return false;
  const quiet = new PickleAnalyst(() => undefined, { torchscript: false });
  let at = 0;
  for (let i = 0; i <= LEADING_PICKLES; i++) {
    const outcome = await new Machine(new StreamReader(source, at), quiet).run();
    if (!outcome.stopped) return false;
    if (i === LEADING_PICKLES) return isSym(outcome.result) && outcome.result.t === "pid";
    at = outcome.end;
  }
  return false;
}
