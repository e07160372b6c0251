# Installing and packaging.
#   make install [PREFIX=/usr/local] [DESTDIR=...]   (Makefile) CLI, BPF objects, the libvirt
#                                                   hook, wrapper, daemon and its systemd unit
#   make uninstall                                  removes what the last install from this
#                                                   build put in place (install_manifest.txt)
#   make deb                                        Debian package in $(BUILD_DIR)/deb (a copy
#                                                   of the checkout is built, nothing is written
#                                                   outside it), then lintian on it
.PHONY: uninstall deb

uninstall:
	@test -f $(BUILD_DIR)/install_manifest.txt || { echo "uninstall: no $(BUILD_DIR)/install_manifest.txt: nothing was installed from this build"; exit 1; }
	@xargs -rd '\n' rm -fv <$(BUILD_DIR)/install_manifest.txt
	@for d in $$(sed -n 's|/[^/]*$$||p' $(BUILD_DIR)/install_manifest.txt | sort -ru); do \
		case $$d in */vsteer|*/vsteer/*|*/qemu.d) rmdir --ignore-fail-on-non-empty "$$d" 2>/dev/null || true ;; esac; \
	done
	@rm -f $(BUILD_DIR)/install_manifest.txt

DEB_VERSION = $(shell dpkg-parsechangelog -l debian/changelog -S Version)
deb:
	@command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null || bash scripts/install-deps.sh
	rm -rf $(BUILD_DIR)/deb && mkdir -p $(BUILD_DIR)/deb/vsteer-$(DEB_VERSION)
	git ls-files -co --exclude-standard -z | grep -zv '^$(BUILD_DIR)/' | \
		tar --null -T - -cf - | tar -xf - -C $(BUILD_DIR)/deb/vsteer-$(DEB_VERSION)
	cd $(BUILD_DIR)/deb/vsteer-$(DEB_VERSION) && DEB_BUILD_OPTIONS="parallel=$(JOBS) nocheck" dpkg-buildpackage -us -uc -b
	lintian --fail-on error,warning $(BUILD_DIR)/deb/vsteer_$(DEB_VERSION)_*.changes
	@ls -l $(BUILD_DIR)/deb/*.deb
