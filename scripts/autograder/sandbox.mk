# scripts/autograder/sandbox.mk: read after the Makefile by the autograder's
# build (autograder.py: make -f Makefile -f sandbox.mk WALL_CC='...'). Every
# student object is compiled by wall.py's cc instead of the compiler itself:
# as the unprivileged build user, in a folder holding only the student's file
# and the public headers, with limits (wall.py says what and why). A private
# pattern variable: no prerequisite inherits it, and a prebuilt object
# (scripts/prebuilt.mk's target variable, which comes first) keeps its own.
ifeq ($(WALL_CC),)
$(error sandbox.mk needs WALL_CC=<wall.py's cc command>)
endif
$(BUILD)/student/%.o: private CC := $(WALL_CC) $(CC)
