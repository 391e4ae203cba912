// longpoll.scenarios.ts with the official `phoenix` client (see harness/clients.ts `clientSuite`).
import { clientSuite } from "./harness/index.js";
import { longpollScenarios } from "./longpoll.scenarios.js";

clientSuite("phoenix", longpollScenarios);
