/**
 * Every spec 55 flow through `@orgchat/client` on the in-process memory network, in real time: the
 * same scenarios (`flows.ts`) as on Waku, so that the two runs differ only by the transport factory.
 */
import { describeFlows } from "./flows.js";

describeFlows("memory");
