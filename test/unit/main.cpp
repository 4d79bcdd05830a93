// Shared Boost.Test entry point for every unit test executable.
#define BOOST_TEST_MODULE mr_storage_initializer_unit
#include <boost/test/unit_test.hpp>
