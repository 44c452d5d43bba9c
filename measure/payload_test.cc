#include "measure/payload.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace realm_measurements::measure {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

void WriteFile(const std::string& path, const std::string& data) {
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(data.data(), 1, data.size(), f), data.size());
  std::fclose(f);
}

// Collects the chunks of a payload.
std::vector<std::string> Chunks(const Payload& p, size_t max_chunk,
                                absl::Status* status) {
  std::vector<std::string> out;
  *status = p.Read(
      [&](absl::Span<const uint8_t> c) {
        out.emplace_back(c.begin(), c.end());
        return absl::OkStatus();
      },
      max_chunk);
  return out;
}

TEST(Payload, BytesAreChunkedInOrder) {
  Payload p = Payload::FromBytes("DTB", {1, 2, 3, 4, 5, 6, 7});
  EXPECT_EQ(p.name(), "DTB");
  EXPECT_FALSE(p.is_file());
  ASSERT_NE(p.bytes(), nullptr);
  EXPECT_EQ(*p.Size(), 7u);
  absl::Status s;
  std::vector<std::string> c = Chunks(p, 3, &s);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0], std::string("\x01\x02\x03"));
  EXPECT_EQ(c[2], std::string("\x07"));
}

TEST(Payload, EmptyBytesCallNothing) {
  Payload p = Payload::FromBytes("empty", {});
  absl::Status s;
  EXPECT_TRUE(Chunks(p, 16, &s).empty());
  EXPECT_TRUE(s.ok());
}

TEST(Payload, FileIsReadInBoundedChunks) {
  const std::string path = TempPath("payload-file");
  std::string data;
  for (int i = 0; i < 10000; ++i) data.push_back(static_cast<char>(i * 7));
  WriteFile(path, data);
  Payload p = Payload::FromFile(path);
  EXPECT_TRUE(p.is_file());
  EXPECT_EQ(p.bytes(), nullptr);
  EXPECT_EQ(*p.Size(), 10000u);
  absl::Status s;
  std::vector<std::string> c = Chunks(p, 4096, &s);
  ASSERT_TRUE(s.ok()) << s;
  std::string joined;
  for (const std::string& x : c) {
    EXPECT_LE(x.size(), 4096u);
    joined += x;
  }
  EXPECT_EQ(joined, data);
}

TEST(Payload, MissingFileIsOpenedLazilyWithRustStyleError) {
  // Creating the payload never touches the file.
  Payload p = Payload::FromFile("nonexistent-file");
  absl::StatusOr<uint64_t> size = p.Size();
  ASSERT_FALSE(size.ok());
  EXPECT_EQ(size.status().message(),
            "file nonexistent-file error: No such file or directory (os error "
            "2)");
  absl::Status s;
  Chunks(p, 16, &s);
  EXPECT_EQ(s.message(),
            "file nonexistent-file error: No such file or directory (os error "
            "2)");
}

TEST(Payload, DirectoryIsAnError) {
  const char* dir = std::getenv("TEST_TMPDIR");
  Payload p = Payload::FromFile(dir != nullptr ? dir : "/tmp");
  absl::StatusOr<uint64_t> size = p.Size();
  ASSERT_FALSE(size.ok());
  EXPECT_NE(size.status().message().find("Is a directory (os error 21)"),
            std::string::npos)
      << size.status();
}

TEST(Payload, CallbackErrorStopsReading) {
  Payload p = Payload::FromBytes("x", std::vector<uint8_t>(100, 1));
  int calls = 0;
  absl::Status s = p.Read(
      [&](absl::Span<const uint8_t>) {
        ++calls;
        return absl::CancelledError("stop");
      },
      10);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(s.message(), "stop");
}

TEST(PayloadReader, FileReadsEverythingAndHasIdentity) {
  const std::string path = TempPath("payload-reader");
  std::string data(10000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  WriteFile(path, data);
  absl::StatusOr<Payload::Reader> r = Payload::FromFile(path).Open();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->file_identity().rfind("file:", 0), 0u);
  std::string got;
  std::vector<uint8_t> buf(4096);
  for (;;) {
    absl::StatusOr<size_t> n = r->Read(absl::MakeSpan(buf));
    ASSERT_TRUE(n.ok()) << n.status();
    if (*n == 0) break;
    // Only the last read may be short.
    if (*n < buf.size()) {
      EXPECT_EQ(got.size() + *n, data.size());
    }
    got.append(buf.begin(), buf.begin() + *n);
  }
  EXPECT_EQ(got, data);
}

TEST(PayloadReader, IdentityChangesWithContent) {
  const std::string path = TempPath("payload-reader-id");
  WriteFile(path, "one");
  std::string first = Payload::FromFile(path).Open()->file_identity();
  WriteFile(path, "three");
  std::string second = Payload::FromFile(path).Open()->file_identity();
  EXPECT_NE(first, second);  // size differs at least
}

TEST(PayloadReader, BytesHaveNoFileIdentity) {
  absl::StatusOr<Payload::Reader> r =
      Payload::FromBytes("DTB", {1, 2, 3}).Open();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->file_identity().empty());
  std::vector<uint8_t> buf(2);
  EXPECT_EQ(*r->Read(absl::MakeSpan(buf)), 2u);
  EXPECT_EQ(*r->Read(absl::MakeSpan(buf)), 1u);
  EXPECT_EQ(buf[0], 3);
  EXPECT_EQ(*r->Read(absl::MakeSpan(buf)), 0u);
}

TEST(PayloadReader, MissingFileAndDirectoryErrors) {
  absl::StatusOr<Payload::Reader> r =
      Payload::FromFile(TempPath("no-such-file")).Open();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("(os error 2)"), std::string::npos);
  const char* dir = std::getenv("TEST_TMPDIR");
  absl::StatusOr<Payload::Reader> d =
      Payload::FromFile(dir != nullptr ? dir : "/tmp").Open();
  ASSERT_TRUE(d.ok()) << d.status();
  std::vector<uint8_t> buf(16);
  absl::StatusOr<size_t> n = d->Read(absl::MakeSpan(buf));
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("Is a directory (os error 21)"),
            std::string::npos);
}

// Issue 14: /dev/zero or a FIFO as a payload was read forever (or blocked
// in open). Each access is refused at once, naming the file and its type.
TEST(Payload, DevicesAndFifosAreRefusedWithoutBlocking) {
  const std::string fifo = TempPath("payload.fifo");
  unlink(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::pair<std::string, std::string> cases[] = {
      {fifo, "FIFO"},
      {"/dev/zero", "character device"},
      {"/dev/urandom", "character device"},
  };
  for (const auto& [path, type] : cases) {
    SCOPED_TRACE(path);
    const std::string want =
        "file " + path + " error: not a regular file (" + type + ")";
    Payload p = Payload::FromFile(path);
    EXPECT_EQ(p.Size().status().message(), want);
    absl::Status s;
    Chunks(p, 16, &s);
    EXPECT_EQ(s.message(), want);
    EXPECT_EQ(p.Open().status().message(), want);
    EXPECT_EQ(p.Open().status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(ReadSmallRegularFile, BoundedAndRegularOnly) {
  const std::string path = TempPath("small-file");
  WriteFile(path, "0123456789");
  EXPECT_EQ(*ReadSmallRegularFile(path, 10), "0123456789");
  EXPECT_EQ(
      ReadSmallRegularFile(path, 9).status().message(),
      "file " + path + " error: 10 bytes, more than the limit of 9 bytes");
  // /dev/zero never ends: refused, not read until memory runs out.
  EXPECT_EQ(ReadSmallRegularFile("/dev/zero", 1 << 20).status().message(),
            "file /dev/zero error: not a regular file (character device)");
  const std::string fifo = TempPath("small.fifo");
  unlink(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(ReadSmallRegularFile(fifo, 1 << 20).status().message(),
            "file " + fifo + " error: not a regular file (FIFO)");
  EXPECT_EQ(ReadSmallRegularFile(TempPath("none"), 1).status().code(),
            absl::StatusCode::kNotFound);
}

// A stream of `n` bytes 0, 1, 2, ... (mod 256).
class CountingStream : public Payload::Stream {
 public:
  explicit CountingStream(uint64_t n) : n_(n) {}
  absl::StatusOr<size_t> Read(absl::Span<uint8_t> out) override {
    size_t k = 0;
    for (; k < out.size() && pos_ < n_; ++k) out[k] = pos_++ & 0xff;
    return k;
  }
  std::string identity() const override { return "counting"; }

 private:
  uint64_t n_;
  uint64_t pos_ = 0;
};

Payload::StreamOpener Counting(uint64_t n) {
  return [n]() -> absl::StatusOr<std::unique_ptr<Payload::Stream>> {
    return std::make_unique<CountingStream>(n);
  };
}

TEST(Payload, StreamIsReopenedForEachPass) {
  Payload p = Payload::FromStream("stream", 1000, Counting(1000));
  EXPECT_TRUE(p.is_file());
  EXPECT_EQ(p.bytes(), nullptr);
  EXPECT_EQ(*p.Size(), 1000u);
  for (int pass = 0; pass < 2; ++pass) {
    absl::Status s;
    std::string joined;
    for (const std::string& c : Chunks(p, 300, &s)) joined += c;
    ASSERT_TRUE(s.ok()) << s;
    ASSERT_EQ(joined.size(), 1000u);
    EXPECT_EQ(static_cast<uint8_t>(joined[999]), 999 & 0xff);
  }
  absl::StatusOr<Payload::Reader> r = p.Open();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->file_identity(), "counting");
}

TEST(Payload, StreamOfAnotherSizeThanLoadedIsAnError) {
  for (uint64_t actual : {999u, 1001u}) {
    SCOPED_TRACE(actual);
    Payload p = Payload::FromStream("k.gz", 1000, Counting(actual));
    absl::Status s;
    Chunks(p, 4096, &s);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(s.message().find("file k.gz error: "), std::string::npos) << s;
    EXPECT_NE(s.message().find("(changed since it was loaded)"),
              std::string::npos)
        << s;
  }
}

// Positional reads (granule_hasher.h reads files and bytes with them, on
// several threads at once).
TEST(PayloadReader, ReadAtGivesTheContentOfFilesAndBytes) {
  std::string data(3 * 4096 + 10, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  const std::string path = TempPath("read-at");
  WriteFile(path, data);
  for (const Payload& p :
       {Payload::FromFile(path),
        Payload::FromBytes("b",
                           std::vector<uint8_t>(data.begin(), data.end()))}) {
    absl::StatusOr<Payload::Reader> r = p.Open();
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->can_read_at());
    EXPECT_EQ(r->size(), data.size());
    std::vector<uint8_t> got(5000);
    ASSERT_TRUE(r->ReadAt(4000, absl::MakeSpan(got)).ok());
    EXPECT_EQ(std::string(got.begin(), got.end()), data.substr(4000, 5000));
    // Past the end: refused.
    EXPECT_EQ(r->ReadAt(data.size() - 1, absl::MakeSpan(got.data(), 2)).code(),
              absl::StatusCode::kInternal);
  }
  // A directory reads only sequentially (and fails there).
  const char* dir = std::getenv("TEST_TMPDIR");
  absl::StatusOr<Payload::Reader> d =
      Payload::FromFile(dir != nullptr ? dir : "/tmp").Open();
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->can_read_at());
}

// A file that shrinks after it was opened: the read names the file and both
// sizes.
TEST(PayloadReader, ReadAtOfAShrunkFileFails) {
  const std::string path = TempPath("shrinks");
  WriteFile(path, std::string(64 * 1024, 'x'));
  absl::StatusOr<Payload::Reader> r = Payload::FromFile(path).Open();
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(truncate(path.c_str(), 4096), 0);
  std::vector<uint8_t> buf(64 * 1024);
  absl::Status s = r->ReadAt(0, absl::MakeSpan(buf));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "file " + path +
                " error: content ended after 4096 bytes, expected 65536 "
                "(changed while it was read)");
}

}  // namespace
}  // namespace realm_measurements::measure
