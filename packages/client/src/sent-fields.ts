/**
 * The fields of a channel message this client sends, taken from what it encoded (no decode of its
 * own bytes per send).
 */
import type { encodeChannelMessage } from "@orgchat/wire";
import type { ChannelMessageFields } from "./event-log.js";

/** What a channel message carries (the `body` of `ChannelMessage`). */
export type ChannelBodyInit = NonNullable<Parameters<typeof encodeChannelMessage>[0]["body"]>;

/**
 * A lone surrogate: protobuf writes it as U+FFFD, so a text holding one reads back different from
 * what was encoded (in Unicode mode a well-formed pair is one code point, not `Cs`).
 */
const loneSurrogate = /\p{Cs}/u;

/**
 * Whether `text` holds a lone surrogate: `String.prototype.isWellFormed` where the runtime has it
 * (ES2024: native, and constant time for a one-byte string), else {@link loneSurrogate}.
 */
function hasLoneSurrogate(text: string): boolean {
  const wellFormed = (text as { isWellFormed?: () => boolean }).isWellFormed;
  return wellFormed === undefined ? loneSurrogate.test(text) : !wellFormed.call(text);
}

/**
 * The fields of a channel message this client encoded, as a receiver decodes them: protobuf's
 * defaults for the fields left out, the same strings. `undefined` when a text holds a lone
 * surrogate (the caller decodes the encoded bytes instead).
 * @param message - the init the message was encoded from (`encodeChannelMessage`)
 * @returns the fields the event log reads, or `undefined`
 */
export function sentChannelFields(message: {
  readonly channelId: string;
  readonly author: Uint8Array;
  readonly clock: bigint;
  readonly sentAt: bigint;
  readonly body: ChannelBodyInit;
}): ChannelMessageFields | undefined {
  const { channelId, author, clock, sentAt } = message;
  const body = message.body;
  let fields: ChannelMessageFields["body"];
  switch (body.case) {
    case "post": {
      const text = body.value.text ?? "";
      if (hasLoneSurrogate(text)) return undefined;
      fields = { case: "post", value: { text, replyTo: body.value.replyTo ?? "" } };
      break;
    }
    case "edit": {
      const text = body.value.text ?? "";
      if (hasLoneSurrogate(text)) return undefined;
      fields = { case: "edit", value: { messageId: body.value.messageId ?? "", text } };
      break;
    }
    case "delete":
      fields = { case: "delete", value: { messageId: body.value.messageId ?? "" } };
      break;
    case "pin":
      fields = {
        case: "pin",
        value: { messageId: body.value.messageId ?? "", pinned: body.value.pinned ?? false },
      };
      break;
    default:
      return undefined;
  }
  return { channelId, author, clock, sentAt, body: fields };
}
