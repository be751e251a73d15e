// Tests of daemon_lock: one holder per database, the holder's pid in the refusal.
#include "soundtrackd/db/daemon_lock.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "test_support.hpp"

namespace soundtrackd::db {
namespace {

TEST(DbDaemonLock, SecondHolderIsRefusedWithThePid) {
  test::temp_dir dir;
  auto db_path = dir / "queue.db";
  auto first = daemon_lock::acquire(db_path);
  ASSERT_TRUE(first) << first.error_message();
  EXPECT_EQ(first->lock_path(), dir / "queue.db.lock");
  EXPECT_EQ(test::read_file(dir / "queue.db.lock"), std::to_string(getpid()) + "\n");

  // flock locks belong to an open file description, so a second acquire in this very
  // process conflicts just as another process would.
  auto second = daemon_lock::acquire(db_path);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error_message(),
            "another soundtrackd (pid " + std::to_string(getpid()) + ") is using " + db_path.string());
}

TEST(DbDaemonLock, ReleasedOnDestructionAndKeptAcrossMoves) {
  test::temp_dir dir;
  auto db_path = dir / "queue.db";
  {
    auto lock = daemon_lock::acquire(db_path);
    ASSERT_TRUE(lock);
    daemon_lock moved = std::move(*lock);
    EXPECT_FALSE(daemon_lock::acquire(db_path)) << "the moved-to lock still holds";
  }
  auto again = daemon_lock::acquire(db_path);
  EXPECT_TRUE(again) << again.error_message();
}

TEST(DbDaemonLock, AnotherProcessIsRefusedWithTheHoldersPid) {
  test::temp_dir dir;
  auto db_path = dir / "queue.db";
  int ready[2], release[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(release), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child holds the lock until the parent writes to `release`.
    auto lock = daemon_lock::acquire(db_path);
    char c = lock ? 'y' : 'n';
    if (write(ready[1], &c, 1) != 1) _exit(2);
    if (read(release[0], &c, 1) != 1) _exit(3);
    _exit(lock ? 0 : 1);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  EXPECT_EQ(c, 'y');

  auto refused = daemon_lock::acquire(db_path);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error_message(),
            "another soundtrackd (pid " + std::to_string(child) + ") is using " + db_path.string());

  ASSERT_EQ(write(release[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  for (int fd : {ready[0], ready[1], release[0], release[1]}) close(fd);

  auto mine = daemon_lock::acquire(db_path);
  EXPECT_TRUE(mine) << mine.error_message();
}

TEST(DbDaemonLock, UnusableDirectoryIsNamed) {
  test::temp_dir dir;
  auto lock = daemon_lock::acquire(dir / "missing" / "queue.db");
  ASSERT_FALSE(lock);
  EXPECT_NE(lock.error_message().find("cannot open lock file " + (dir / "missing" / "queue.db.lock").string()),
            std::string::npos)
      << lock.error_message();
}

}  // namespace
}  // namespace soundtrackd::db
