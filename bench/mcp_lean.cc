// A lean MCP client for benchmarks: it costs little itself, so what it measures is the server. Raw HTTP/1.1
// keep-alive over loopback, or a raw stdio pipe to a server process; JSON bodies prepared once; responses read to
// their end (Content-Length, chunked and SSE alike) and checked for the request's id, never parsed into a tree.
//
//   mcp_lean --url http://127.0.0.1:PORT/mcp | --stdio CMD [ARGS...] --
//            --era legacy|modern --request tools/list|tools/call:NAME:ARGUMENTS_JSON
//            [--rounds N] [--concurrency C]
//   mcp_lean --pipe-floor   a server that does no work: it answers every line on stdin with an empty result for
//                           its id. Measured over --stdio, it is the floor any stdio server's round trip stands on.
// Prints one JSON line: {"median_us", "p90_us", "rps"}: latency of one caller at a time, then requests per second
// from C callers at once (C connections over HTTP; C requests in flight on the one pipe over stdio).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <csignal>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& why) {
  fprintf(stderr, "mcp_lean: %s\n", why.c_str());
  exit(2);
}

struct Options {
  std::string host = "127.0.0.1", path = "/mcp";
  int port = 0;
  std::vector<std::string> stdio;  // the server's command line, for --stdio
  bool modern = false;
  std::string method = "tools/list", tool, arguments = "{}";
  int rounds = 2000, concurrency = 8;
};

const char* kModern = "2026-07-28";
const char* kLegacy = "2025-11-25";

std::string Meta() {
  return std::string(R"("_meta":{"io.modelcontextprotocol/protocolVersion":")") + kModern +
         R"(","io.modelcontextprotocol/clientCapabilities":{}})";
}

/// The request's JSON with id `id`.
std::string Body(const Options& o, long id) {
  std::string params = o.method == "tools/call"
                           ? R"("name":")" + o.tool + R"(","arguments":)" + o.arguments
                           : "";
  if (o.modern) params += std::string(params.empty() ? "" : ",") + Meta();
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + o.method + R"(","params":{)" + params + "}}";
}

/// Whether `answer` is the result for request `id` (the id comes first or last, depending on the server).
bool AnswersWithResult(const std::string& answer, long id) {
  std::string mark = "\"id\":" + std::to_string(id);
  return (answer.find(mark + ",") != std::string::npos || answer.find(mark + "}") != std::string::npos) &&
         answer.find("\"result\"") != std::string::npos;
}

// --- HTTP ---

class HttpConnection {
 public:
  explicit HttpConnection(const Options& o) : o_(o) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(o.port));
    inet_pton(AF_INET, o.host.c_str(), &a.sin_addr);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) Die("cannot connect to the server");
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!o.modern) Initialize();
  }
  ~HttpConnection() { close(fd_); }

  /// One request, answered; false when the answer was not a result for it.
  bool Call(long id) {
    std::string body = Body(o_, id);
    std::string extra;
    if (o_.modern) {
      extra = std::string("MCP-Protocol-Version: ") + kModern + "\r\nMcp-Method: " + o_.method + "\r\n";
      if (o_.method == "tools/call") extra += "Mcp-Name: " + o_.tool + "\r\n";
    } else {
      extra = std::string("MCP-Protocol-Version: ") + kLegacy + "\r\nMcp-Session-Id: " + session_ + "\r\n";
    }
    std::string answer = Exchange(body, extra);
    return AnswersWithResult(answer, id);
  }

 private:
  void Initialize() {
    std::string init = std::string(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":")") +
                       kLegacy + R"(","capabilities":{},"clientInfo":{"name":"mcp_lean","version":"1"}}})";
    std::map<std::string, std::string> headers;
    Exchange(init, "", &headers);
    session_ = headers["mcp-session-id"];
    if (session_.empty()) Die("initialize gave no Mcp-Session-Id");
    Exchange(R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
             std::string("MCP-Protocol-Version: ") + kLegacy + "\r\nMcp-Session-Id: " + session_ + "\r\n");
  }

  std::string Exchange(const std::string& body, const std::string& extra,
                       std::map<std::string, std::string>* headers_out = nullptr) {
    std::string req = "POST " + o_.path + " HTTP/1.1\r\nHost: " + o_.host + ":" + std::to_string(o_.port) +
                      "\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n" + extra +
                      "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    for (size_t off = 0; off < req.size();) {
      ssize_t n = send(fd_, req.data() + off, req.size() - off, MSG_NOSIGNAL);
      if (n <= 0) Die("the server closed the connection");
      off += size_t(n);
    }
    // The head, then the body by Content-Length or chunked transfer.
    size_t head_end;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) Fill();
    std::string head = buf_.substr(0, head_end);
    buf_.erase(0, head_end + 4);
    std::map<std::string, std::string> headers;
    for (size_t p = head.find("\r\n"); p != std::string::npos;) {
      size_t q = head.find("\r\n", p + 2);
      std::string line = head.substr(p + 2, q == std::string::npos ? std::string::npos : q - p - 2);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        size_t v = line.find_first_not_of(' ', colon + 1);
        headers[name] = v == std::string::npos ? "" : line.substr(v);
      }
      p = q;
    }
    std::string out;
    if (headers.count("content-length")) {
      size_t n = std::stoul(headers["content-length"]);
      while (buf_.size() < n) Fill();
      out = buf_.substr(0, n);
      buf_.erase(0, n);
    } else if (headers["transfer-encoding"].find("chunked") != std::string::npos) {
      for (;;) {
        size_t eol;
        while ((eol = buf_.find("\r\n")) == std::string::npos) Fill();
        size_t n = std::stoul(buf_.substr(0, eol), nullptr, 16);
        while (buf_.size() < eol + 2 + n + 2) Fill();
        out += buf_.substr(eol + 2, n);
        buf_.erase(0, eol + 2 + n + 2);
        if (n == 0) break;
      }
    }
    if (headers_out) *headers_out = headers;
    return out;
  }

  void Fill() {
    char chunk[65536];
    ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) Die("the server closed the connection");
    buf_.append(chunk, size_t(n));
  }

  const Options& o_;
  int fd_;
  std::string buf_, session_;
};

// --- stdio ---

class StdioServer {
 public:
  explicit StdioServer(const Options& o) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) Die("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    std::vector<char*> argv;
    for (auto& a : o.stdio) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (posix_spawnp(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) Die("cannot start " + o.stdio[0]);
    close(in[0]);
    close(out[1]);
    to_ = in[1];
    from_ = out[0];
    if (!o.modern) {
      Write(std::string(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":")") + kLegacy +
            R"(","capabilities":{},"clientInfo":{"name":"mcp_lean","version":"1"}}})");
      ReadLine();
      Write(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
    }
  }
  ~StdioServer() {
    close(to_);
    close(from_);
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  void Write(const std::string& line) {
    std::string l = line + "\n";
    for (size_t off = 0; off < l.size();) {
      ssize_t n = write(to_, l.data() + off, l.size() - off);
      if (n <= 0) Die("the server's stdin closed");
      off += size_t(n);
    }
  }
  std::string ReadLine() {
    size_t nl;
    while ((nl = buf_.find('\n')) == std::string::npos) {
      char chunk[65536];
      ssize_t n = read(from_, chunk, sizeof chunk);
      if (n <= 0) Die("the server's stdout closed");
      buf_.append(chunk, size_t(n));
    }
    std::string line = buf_.substr(0, nl);
    buf_.erase(0, nl + 1);
    return line;
  }
  /// The id of a response line (-1 for a notification): right after "jsonrpc" (kiln) or last (Node servers).
  static long IdOf(const std::string& line) {
    const std::string first = "{\"jsonrpc\":\"2.0\",\"id\":";
    size_t p = line.rfind(first, 0) == 0 ? first.size() - 5 : line.rfind("\"id\":");
    if (p == std::string::npos || line.find("\"method\"") != std::string::npos) return -1;
    return strtol(line.c_str() + p + 5, nullptr, 10);
  }

 private:
  pid_t pid_;
  int to_, from_;
  std::string buf_;
};

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

struct Figures {
  double median_us, p90_us, rps;
};

Figures Summarize(std::vector<double> samples, double rps) {
  std::sort(samples.begin(), samples.end());
  return {samples[samples.size() / 2], samples[samples.size() * 9 / 10], rps};
}

Figures BenchHttp(const Options& o) {
  std::vector<double> samples;
  {
    HttpConnection c(o);
    for (int i = 0; i < 100; i++) c.Call(1000000 + i);  // warm up
    for (int i = 0; i < o.rounds; i++) {
      auto t = Clock::now();
      if (!c.Call(i + 1)) Die("request " + std::to_string(i + 1) + " got no result");
      samples.push_back(Micros(Clock::now() - t));
    }
  }
  std::vector<std::unique_ptr<HttpConnection>> conns;
  for (int i = 0; i < o.concurrency; i++) conns.push_back(std::make_unique<HttpConnection>(o));
  int per = o.rounds * 2 / o.concurrency;
  auto t = Clock::now();
  std::vector<std::thread> callers;
  for (int i = 0; i < o.concurrency; i++) {
    callers.emplace_back([&, i] {
      for (int k = 0; k < per; k++)
        if (!conns[i]->Call(long(i) * per + k + 1)) Die("a concurrent request got no result");
    });
  }
  for (auto& c : callers) c.join();
  double seconds = std::chrono::duration<double>(Clock::now() - t).count();
  return Summarize(samples, per * o.concurrency / seconds);
}

Figures BenchStdio(const Options& o) {
  StdioServer s(o);
  auto call = [&](long id) {
    s.Write(Body(o, id));
    for (;;) {
      std::string line = s.ReadLine();
      if (StdioServer::IdOf(line) == id) return line.find("\"result\"") != std::string::npos;
    }
  };
  for (int i = 0; i < 100; i++) call(1000000 + i);
  std::vector<double> samples;
  for (int i = 0; i < o.rounds; i++) {
    auto t = Clock::now();
    if (!call(i + 1)) Die("request got no result");
    samples.push_back(Micros(Clock::now() - t));
  }
  // C requests in flight: each answer sends the next.
  int total = o.rounds * 2;
  long next = 2000000;
  int sent = 0, done = 0;
  auto t = Clock::now();
  for (; sent < o.concurrency; sent++) s.Write(Body(o, next++));
  while (done < total) {
    std::string line = s.ReadLine();
    if (StdioServer::IdOf(line) < 0) continue;
    done++;
    if (sent < total) {
      s.Write(Body(o, next++));
      sent++;
    }
  }
  double seconds = std::chrono::duration<double>(Clock::now() - t).count();
  return Summarize(samples, total / seconds);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--url") {
      std::string url = value();  // http://HOST:PORT/PATH
      size_t host = url.find("://") + 3, colon = url.find(':', host), slash = url.find('/', host);
      if (url.compare(0, 7, "http://") != 0 || colon == std::string::npos) Die("--url: http://HOST:PORT/PATH");
      o.host = url.substr(host, colon - host);
      o.port = std::stoi(url.substr(colon + 1, slash - colon - 1));
      o.path = slash == std::string::npos ? "/" : url.substr(slash);
    } else if (a == "--stdio") {
      while (++i < argc && std::string(argv[i]) != "--") o.stdio.push_back(argv[i]);
    } else if (a == "--era") {
      std::string era = value();
      if (era != "legacy" && era != "modern") Die("--era: legacy or modern");
      o.modern = era == "modern";
    } else if (a == "--request") {
      std::string r = value();
      if (r.rfind("tools/call:", 0) == 0) {
        size_t colon = r.find(':', 11);
        o.method = "tools/call";
        o.tool = r.substr(11, colon == std::string::npos ? std::string::npos : colon - 11);
        if (colon != std::string::npos) o.arguments = r.substr(colon + 1);
      } else {
        o.method = r;
      }
    } else if (a == "--rounds") {
      o.rounds = std::stoi(value());
    } else if (a == "--concurrency") {
      o.concurrency = std::stoi(value());
    } else {
      Die("unknown argument " + a);
    }
  }
  if (o.port == 0 && o.stdio.empty()) Die("--url or --stdio is required");
  return o;
}

/// --pipe-floor: answer each request line at once with an empty result (a legacy initialize gets the same; the
/// client reads only the id and "result").
int ServePipeFloor() {
  std::string in, out;
  char chunk[65536];
  for (;;) {
    ssize_t n = read(0, chunk, sizeof chunk);
    if (n <= 0) return 0;
    in.append(chunk, size_t(n));
    size_t start = 0, nl;
    while ((nl = in.find('\n', start)) != std::string::npos) {
      size_t id = in.find("\"id\":", start);
      if (id != std::string::npos && id < nl) {
        size_t end = in.find_first_of(",}", id);
        out += R"({"jsonrpc":"2.0","id":)" + in.substr(id + 5, end - id - 5) + R"(,"result":{}})" "\n";
      }
      start = nl + 1;
    }
    in.erase(0, start);
    if (!out.empty() && write(1, out.data(), out.size()) != ssize_t(out.size())) return 1;
    out.clear();
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--pipe-floor") return ServePipeFloor();
  Options o = Parse(argc, argv);
  Figures f = o.stdio.empty() ? BenchHttp(o) : BenchStdio(o);
  printf("{\"median_us\":%.1f,\"p90_us\":%.1f,\"rps\":%.0f}\n", f.median_us, f.p90_us, f.rps);
  return 0;
}
