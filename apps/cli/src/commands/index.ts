/**
 * Every `orgchat` command, in help order: parse → call the client → return a result for `format.ts`
 * to print. One module per group (identity, organization, joining, invitations, membership,
 * channels, messages, chat, serve); what they share is in `shared.ts`. One-shot commands that change
 * something wait until a service node has accepted (and stored) what they published, so that the
 * other side finds it even if this process is gone.
 */
import type { CommandSpec } from "../command.js";
import { idBackup, idRestore } from "./backup.js";
import {
  categoryCreate,
  categoryEdit,
  categoryList,
  categoryRemove,
  channelCreate,
  channelEdit,
  channelList,
  channelMembers,
  channelRemove,
} from "./channels.js";
import { chatCommand } from "./chat.js";
import { daemonStart, daemonStatus, daemonStop, events } from "./daemon.js";
import { idCreate, idShow } from "./identity.js";
import { invitations, invitationsAccept, invitationsDecline } from "./invitations.js";
import { cancel, join, leave } from "./joining.js";
import { accept, ban, invite, reject, remove, requests, role, unban } from "./membership.js";
import { deleteMessage, edit, pin, unpin } from "./message-actions.js";
import { read, send } from "./messages.js";
import { orgCreate, orgForget, orgLink, orgShow } from "./organization.js";
import { orgs } from "./overview.js";
import { ownerBackup, ownerRestore, ownerResume } from "./owner.js";
import { serveCommand } from "./serve.js";

/** Every command, in help order. */
export const commands: readonly CommandSpec[] = [
  idCreate,
  idShow,
  idBackup,
  idRestore,
  ownerBackup,
  ownerRestore,
  ownerResume,
  serveCommand,
  orgs,
  orgCreate,
  orgShow,
  orgLink,
  orgForget,
  join,
  cancel,
  requests,
  accept,
  reject,
  invite,
  invitations,
  invitationsAccept,
  invitationsDecline,
  leave,
  remove,
  ban,
  unban,
  role,
  channelCreate,
  channelEdit,
  channelRemove,
  channelMembers,
  channelList,
  categoryCreate,
  categoryEdit,
  categoryRemove,
  categoryList,
  send,
  read,
  edit,
  deleteMessage,
  pin,
  unpin,
  chatCommand,
  events,
  daemonStart,
  daemonStatus,
  daemonStop,
];
