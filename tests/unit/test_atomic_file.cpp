// engine/atomic_file: files written together are all old or all new whatever a crash
// interrupts, once finish_files_together has run (as NSM's open does before reading them).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/atomic_file.hpp"

namespace continuo {
namespace {

namespace fs = std::filesystem;

class FilesTogether : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("continuo-atomic-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    write_file_atomically(a(), "old a");
    write_file_atomically(b(), "old b");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string a() const { return (dir_ / "a.toml").string(); }
  std::string b() const { return (dir_ / "b.ctl").string(); }
  std::string commit() const { return (dir_ / "saving").string(); }
  static std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  fs::path dir_;
};

TEST_F(FilesTogether, WritesEveryFileAndLeavesNothingElse) {
  write_files_together(commit(), {{a(), "new a"}, {b(), "new b"}});
  EXPECT_EQ(read(a()), "new a");
  EXPECT_EQ(read(b()), "new b");
  EXPECT_EQ(entries(), (std::vector<std::string>{"a.toml", "b.ctl"}));
  EXPECT_EQ(finish_files_together(commit(), {a(), b()}), "");
}

// A crash before the commit list was written: the new files are dropped, the old ones stay.
TEST_F(FilesTogether, AnIncompleteSaveIsDropped) {
  write_file_atomically(a() + ".next", "new a");
  const std::string done = finish_files_together(commit(), {a(), b()});
  EXPECT_NE(done.find("a.toml.next"), std::string::npos) << done;
  EXPECT_EQ(read(a()), "old a");
  EXPECT_EQ(read(b()), "old b");
  EXPECT_EQ(entries(), (std::vector<std::string>{"a.toml", "b.ctl"}));
}

// A crash between the renames: the commit list finishes the save, both files new.
TEST_F(FilesTogether, ACommittedSaveIsFinished) {
  write_file_atomically(a(), "new a");  // already renamed before the crash
  write_file_atomically(b() + ".next", "new b");
  write_file_atomically(commit(), "a.toml\nb.ctl\n");
  const std::string done = finish_files_together(commit(), {a(), b()});
  EXPECT_NE(done.find("finished"), std::string::npos) << done;
  EXPECT_EQ(read(a()), "new a");
  EXPECT_EQ(read(b()), "new b");
  EXPECT_EQ(entries(), (std::vector<std::string>{"a.toml", "b.ctl"}));
}

// The list names its files relative to its directory: a session directory copied or renamed
// with a save pending finishes it in the new place.
TEST_F(FilesTogether, AMovedDirectoryFinishesItsOwnSave) {
  write_file_atomically(b() + ".next", "new b");
  write_file_atomically(commit(), "b.ctl\n");
  const fs::path moved = dir_.string() + "-moved";
  fs::remove_all(moved);
  fs::rename(dir_, moved);
  dir_ = moved;
  finish_files_together(commit(), {a(), b()});
  EXPECT_EQ(read(b()), "new b");
  EXPECT_EQ(entries(), (std::vector<std::string>{"a.toml", "b.ctl"}));
}

TEST_F(FilesTogether, AnUnwritableDirectoryIsNamed) {
  const std::string missing = (dir_ / "gone" / "x").string();
  try {
    write_files_together(commit(), {{missing, "x"}});
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(missing), std::string::npos) << error.what();
  }
  EXPECT_EQ(read(a()), "old a");
}

}  // namespace
}  // namespace continuo
