# scripts/prebuilt.mk: earlier projects' student files that a release ships
# prebuilt (make release EARLIER=objects; docs/instructors.md). In the
# release of project N, each student file F of an earlier project comes as
# a stub F and as its reference solution compiled, prebuilt/<F less .c>.o;
# the user image then takes that object as $(BUILD)/student/<F less .c>.o
# instead of compiling the stub. Without a prebuilt/ folder (the
# instructors' tree, EARLIER=skeleton) this file does nothing.
#
# The Makefile includes it after user/user.mk, whose STUDENT_RULE it hooks
# without changing it: for those objects only, CC (a private target
# variable, so no prerequisite inherits it) copies the object instead of
# compiling, with the rule's own flags and prerequisites otherwise.
PREBUILT_OBJS := $(wildcard prebuilt/*/*.o prebuilt/*/*/*.o)
PREBUILT_FILES := $(filter $(USER_STUDENT_FILES),$(patsubst prebuilt/%.o,%.c,$(PREBUILT_OBJS)))

define PREBUILT_RULE
$(BUILD)/student/$(1:.c=.o): prebuilt/$(1:.c=.o)
$(BUILD)/student/$(1:.c=.o): private CC = echo "          (prebuilt: prebuilt/$(1:.c=.o), the reference solution)"; cp prebuilt/$(1:.c=.o) $$@; :
endef
$(foreach f,$(PREBUILT_FILES),$(eval $(call PREBUILT_RULE,$(f))))
