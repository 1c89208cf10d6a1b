/**
 * The subset of irc-framework (which ships no types) that the IRC transport uses.
 */
declare module "irc-framework" {
  /** A user as irc-framework reports it on most events. */
  interface UserEvent {
    nick: string;
    ident: string;
    hostname: string;
  }

  /** PRIVMSG, NOTICE and ACTION. `account` is the IRCv3 account-tag, when enabled. */
  interface MessageEvent extends UserEvent {
    target: string;
    message: string;
    account?: string | undefined;
    from_server?: boolean;
  }

  interface JoinEvent extends UserEvent {
    channel: string;
    /** With extended-join: the account, or false when not logged in. */
    account?: string | false;
  }

  interface WhoUser extends UserEvent {
    /** With WHOX: the account, or '' when not logged in. */
    account?: string;
  }

  interface ClientEvents {
    registered: { nick: string };
    close: boolean;
    "socket close": unknown;
    "socket error": Error;
    "nick in use": { nick: string; reason: string };
    "nick invalid": { nick: string; reason: string };
    join: JoinEvent;
    part: UserEvent & { channel: string };
    kick: UserEvent & { kicked: string; channel: string; message: string };
    quit: UserEvent & { message: string };
    nick: UserEvent & { new_nick: string };
    privmsg: MessageEvent;
    notice: MessageEvent;
    action: MessageEvent;
    account: { nick: string; account: string | false };
    wholist: { target: string; users: WhoUser[] };
    "sasl failed": { reason: string; message?: string };
    loggedin: { nick: string; account: string };
    "irc error": { error: string; channel?: string; reason?: string };
    raw: { line: string; from_server: boolean };
  }

  /** Options passed to `new Client()` / `connect()`. */
  interface ClientOptions {
    host: string;
    port: number;
    tls?: boolean;
    rejectUnauthorized?: boolean;
    nick: string;
    username: string;
    gecos: string;
    version?: string;
    auto_reconnect?: boolean;
    ping_interval?: number;
    ping_timeout?: number;
    message_max_length?: number;
    account?: { account: string; password: string };
    sasl_mechanism?: "PLAIN" | "EXTERNAL";
    sasl_disconnect_on_fail?: boolean;
    client_certificate?: { certificate: string; private_key: string };
  }

  interface NetworkInfo {
    cap: { isEnabled(name: string): boolean };
    supports(name: string): string | boolean | string[] | undefined;
  }

  /** An IRC connection. */
  export class Client {
    constructor(options?: ClientOptions);
    readonly connected: boolean;
    readonly user: { nick: string; username: string; host: string };
    readonly network: NetworkInfo;
    connect(options?: ClientOptions): void;
    quit(message?: string): void;
    raw(...args: string[]): void;
    say(target: string, message: string): void;
    join(channel: string, key?: string): void;
    changeNick(nick: string): void;
    who(target: string, cb: (event: { target: string; users: WhoUser[] }) => void): void;
    on<K extends keyof ClientEvents>(event: K, listener: (event: ClientEvents[K]) => void): this;
    removeAllListeners(): this;
  }
}
