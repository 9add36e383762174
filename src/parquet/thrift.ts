/**
 * The Thrift compact protocol, as Parquet's footer uses it: decoded into a generic tree that
 * keeps every field (known or not), so the footer can be edited and written back.
 */

export const T = { TRUE: 1, FALSE: 2, I8: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 } as const;

export interface TField {
  id: number;
  type: number;
  value: TValue;
}
export type TStruct = TField[];
export interface TList {
  elementType: number;
  items: TValue[];
}
export interface TMap {
  keyType: number;
  valueType: number;
  entries: [TValue, TValue][];
}
export type TValue = boolean | number | bigint | Uint8Array | TList | TMap | TStruct;

export class ThriftReader {
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  private byte(): number {
    if (this.pos >= this.bytes.length) throw new Error('thrift: unexpected end of data');
    return this.bytes[this.pos++]!;
  }

  private varint(): bigint {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      if (shift > 63n) throw new Error('thrift: varint too long');
    }
  }

  private zigzag(): bigint {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  struct(): TStruct {
    const fields: TStruct = [];
    let last = 0;
    for (;;) {
      const header = this.byte();
      if (header === 0) return fields;
      const type = header & 0x0f;
      const delta = header >> 4;
      const id = delta === 0 ? Number(this.zigzag()) : last + delta;
      last = id;
      const value = type === T.TRUE || type === T.FALSE ? type === T.TRUE : this.value(type);
      fields.push({ id, type, value });
    }
  }

  value(type: number): TValue {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        return this.byte() === 1;
      case T.I8: {
        const b = this.byte();
        return b > 127 ? b - 256 : b;
      }
      case T.I16:
      case T.I32:
        return Number(this.zigzag());
      case T.I64:
        return this.zigzag();
      case T.DOUBLE: {
        const out = this.bytes.slice(this.pos, this.pos + 8);
        this.pos += 8;
        return out;
      }
      case T.BINARY: {
        const n = Number(this.varint());
        const out = this.bytes.slice(this.pos, this.pos + n);
        if (out.length !== n) throw new Error('thrift: unexpected end of data');
        this.pos += n;
        return out;
      }
      case T.LIST:
      case T.SET: {
        const header = this.byte();
        const size = header >> 4 === 15 ? Number(this.varint()) : header >> 4;
        const elementType = header & 0x0f;
        const items: TValue[] = [];
        for (let i = 0; i < size; i++) items.push(this.value(elementType));
        return { elementType, items };
      }
      case T.MAP: {
        const size = Number(this.varint());
        if (size === 0) return { keyType: 0, valueType: 0, entries: [] };
        const kinds = this.byte();
        const map: TMap = { keyType: kinds >> 4, valueType: kinds & 0x0f, entries: [] };
        for (let i = 0; i < size; i++) map.entries.push([this.value(map.keyType), this.value(map.valueType)]);
        return map;
      }
      case T.STRUCT:
        return this.struct();
      default:
        throw new Error(`thrift: unknown compact type ${type}`);
    }
  }
}

export class ThriftWriter {
  private buf = new Uint8Array(1024);
  private len = 0;

  private push(b: number): void {
    if (this.len === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.len++] = b;
  }

  private bytes(b: Uint8Array): void {
    for (const x of b) this.push(x);
  }

  private varint(n: bigint): void {
    let v = BigInt.asUintN(64, n);
    while (v >= 0x80n) {
      this.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.push(Number(v));
  }

  private zigzag(n: bigint): void {
    this.varint(BigInt.asUintN(64, (n << 1n) ^ (n >> 63n)));
  }

  struct(fields: TStruct): void {
    let last = 0;
    for (const f of fields) {
      const type = f.type === T.TRUE || f.type === T.FALSE ? (f.value ? T.TRUE : T.FALSE) : f.type;
      const delta = f.id - last;
      if (delta > 0 && delta <= 15) this.push((delta << 4) | type);
      else {
        this.push(type);
        this.zigzag(BigInt(f.id));
      }
      last = f.id;
      if (type !== T.TRUE && type !== T.FALSE) this.value(type, f.value);
    }
    this.push(0);
  }

  value(type: number, value: TValue): void {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        this.push(value ? 1 : 2);
        return;
      case T.I8:
        this.push((value as number) & 0xff);
        return;
      case T.I16:
      case T.I32:
        this.zigzag(BigInt(value as number));
        return;
      case T.I64:
        this.zigzag(value as bigint);
        return;
      case T.DOUBLE:
        this.bytes(value as Uint8Array);
        return;
      case T.BINARY:
        this.varint(BigInt((value as Uint8Array).length));
        this.bytes(value as Uint8Array);
        return;
      case T.LIST:
      case T.SET: {
        const list = value as TList;
        if (list.items.length < 15) this.push((list.items.length << 4) | list.elementType);
        else {
          this.push(0xf0 | list.elementType);
          this.varint(BigInt(list.items.length));
        }
        for (const item of list.items) this.value(list.elementType, item);
        return;
      }
      case T.MAP: {
        const map = value as TMap;
        this.varint(BigInt(map.entries.length));
        if (map.entries.length === 0) return;
        this.push((map.keyType << 4) | map.valueType);
        for (const [k, v] of map.entries) {
          this.value(map.keyType, k);
          this.value(map.valueType, v);
        }
        return;
      }
      case T.STRUCT:
        this.struct(value as TStruct);
        return;
      default:
        throw new Error(`thrift: unknown compact type ${type}`);
    }
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

export function field(s: TStruct, id: number): TField | undefined {
  return s.find((f) => f.id === id);
}
