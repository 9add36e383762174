import type { DeletionVectorDescriptor } from './actions.ts';

/** Z85 (ZeroMQ's base-85), which Delta uses for the UUID in a deletion vector's file name. */
const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

/** The bytes of Z85 text (a multiple of 5 characters, 4 bytes per 5). */
export function z85Decode(text: string): Uint8Array {
  if (text.length % 5 !== 0) throw new Error(`delta: ${JSON.stringify(text)} is not Z85 (its length is not a multiple of 5)`);
  const out = new Uint8Array((text.length / 5) * 4);
  for (let i = 0; i < text.length; i += 5) {
    let value = 0;
    for (let j = 0; j < 5; j++) {
      const digit = Z85.indexOf(text[i + j]!);
      if (digit < 0) throw new Error(`delta: ${JSON.stringify(text)} is not Z85 (it has ${JSON.stringify(text[i + j])})`);
      value = value * 85 + digit;
    }
    if (value > 0xffffffff) throw new Error(`delta: ${JSON.stringify(text)} is not Z85 (a group overflows 32 bits)`);
    const at = (i / 5) * 4;
    out[at] = value >>> 24;
    out[at + 1] = (value >>> 16) & 0xff;
    out[at + 2] = (value >>> 8) & 0xff;
    out[at + 3] = value & 0xff;
  }
  return out;
}

/**
 * The file of a deletion vector stored next to the data (storage type `u`), relative to the
 * table folder: `<prefix>/deletion_vector_<uuid>.bin`, where `pathOrInlineDv` is the prefix
 * followed by the UUID in 20 Z85 characters. Inline vectors (`i`) have no file (undefined);
 * absolute paths (`p`) are not resolved here and throw.
 */
export function deletionVectorFile(dv: DeletionVectorDescriptor): string | undefined {
  if (dv.storageType === 'i') return undefined;
  if (dv.storageType !== 'u') throw new Error(`delta: deletion vectors stored as ${JSON.stringify(dv.storageType)} are not resolved by this writer`);
  const encoded = dv.pathOrInlineDv;
  if (encoded.length < 20) throw new Error(`delta: the deletion vector ${JSON.stringify(encoded)} is too short to name a file`);
  const prefix = encoded.slice(0, -20);
  const hex = [...z85Decode(encoded.slice(-20))].map((b) => b.toString(16).padStart(2, '0')).join('');
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return prefix ? `${prefix}/deletion_vector_${uuid}.bin` : `deletion_vector_${uuid}.bin`;
}
