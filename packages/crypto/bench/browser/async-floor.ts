/**
 * What an asynchronous message path would cost in the browser: the primitive calls of one send and
 * one receive (as in `bench/messages.ts`'s floors: labelled HKDF expansions, the AES-GCM seals or
 * opens of content and sender data) with the Ed25519 signature made or checked by Web Crypto and
 * awaited, the rest on noble. `EpochKeys` is synchronous today, so no provider can do this; the
 * figures say what changing that would buy.
 */
import { expandWithLabel, u32 } from "../../src/kdf.js";
import type { CryptoProvider } from "../../src/provider.js";
import type { WebCryptoProvider } from "../../src/providers/web.js";
import { type Figure, measureAsync, round } from "../harness.js";

/**
 * Measures the two floors with `web`'s async Ed25519 (Web Crypto) and `noble` for the rest.
 *
 * @param noble - the synchronous provider for HKDF and AES-GCM
 * @param web - the provider whose `ed25519SignAsync` / `ed25519VerifyAsync` are measured
 * @param scale - iteration scale
 * @returns two figures, unit µs, provider "noble + webcrypto Ed25519 (awaited)"
 */
export async function benchAsyncFloors(
  noble: CryptoProvider,
  web: WebCryptoProvider,
  scale: number,
): Promise<Figure[]> {
  const iterations = Math.max(20, Math.round(400 * scale));
  const signer = noble.ed25519KeyPair();
  const chain = noble.randomBytes(32);
  const senderSecret = noble.randomBytes(32);
  const signInput = noble.randomBytes(130 + 256);
  const plaintext = new Uint8Array(384);
  const aad = noble.randomBytes(100);
  const senderAad = noble.randomBytes(12);
  const senderPlain = noble.randomBytes(12);
  const signature = noble.ed25519Sign(signer.secretKey, signInput);
  const keysAt = (secret: Uint8Array, context: Uint8Array) => ({
    key: expandWithLabel(noble, secret, "key", context, 32),
    nonce: expandWithLabel(noble, secret, "nonce", context, 12),
  });
  const content = keysAt(chain, u32(0));
  const sealedContent = noble.aesGcmSeal(content.key, content.nonce, plaintext, aad);
  const sample = sealedContent.subarray(0, 16);
  const sender = keysAt(senderSecret, sample);
  const sealedSender = noble.aesGcmSeal(sender.key, sender.nonce, senderPlain, senderAad);

  const send = await measureAsync(
    async (i) => {
      const { key, nonce } = keysAt(chain, u32(i));
      expandWithLabel(noble, chain, "secret", u32(i), 32);
      plaintext.set((await web.ed25519SignAsync?.(signer.secretKey, signInput)) ?? signature, 260);
      noble.randomBytes(4);
      const sealed = noble.aesGcmSeal(key, nonce, plaintext, aad);
      const senderKeys = keysAt(senderSecret, sealed.subarray(0, 16));
      return noble.aesGcmSeal(senderKeys.key, senderKeys.nonce, senderPlain, senderAad);
    },
    { iterations, rounds: 7 },
  );
  const receive = await measureAsync(
    async () => {
      const senderKeys = keysAt(senderSecret, sample);
      noble.aesGcmOpen(senderKeys.key, senderKeys.nonce, sealedSender, senderAad);
      const { key, nonce } = keysAt(chain, u32(0));
      expandWithLabel(noble, chain, "secret", u32(0), 32);
      noble.aesGcmOpen(key, nonce, sealedContent, aad);
      return web.ed25519VerifyAsync?.(signer.publicKey, signInput, signature);
    },
    { iterations, rounds: 7 },
  );
  const provider = "noble + webcrypto Ed25519 (awaited)";
  const note = "floor only: needs an async EpochKeys";
  return [
    { name: "send one 256 B message", provider, value: round(send.microseconds), unit: "µs", note },
    {
      name: "receive + verify one 256 B message",
      provider,
      value: round(receive.microseconds),
      unit: "µs",
      note,
    },
  ];
}
