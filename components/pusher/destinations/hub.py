"""TF Hub: <hub_root>/<publisher>/<model_name>/<version>/ (a reusable SavedModel) +
<version>.tar.gz.

The module is the export helper's Format-Hub (raw features in, the prediction out) or, for a model
exported without the helper, the serving SavedModel itself."""

from __future__ import annotations

import os
import tarfile
import tempfile

from components.pusher.destinations import fileio
from components.pusher.destinations.base import SOURCE_RECORD, Destination, PublishError, Release


class HubDestination(Destination):
    kind = "hub"
    name = "TF Hub"

    def __init__(self, root: str, model_name: str, publisher: str):
        super().__init__(root, model_name)
        self.publisher = publisher

    @property
    def base(self) -> str:
        return os.path.join(self.root, self.publisher, self.model_name)

    def archive(self, version: int) -> str:
        return os.path.join(self.base, f"{version}.tar.gz")

    def staged_archive(self, version: int) -> str:
        return os.path.join(self.base, f".staging-{version}.tar.gz")

    def stage(self, release: Release, version: int) -> None:
        # The platform's export helper writes a reusable SavedModel (raw features in); a module
        # that saves only its serving SavedModel publishes that, which hub.load reads as well.
        module_dir = release.hub_model_dir
        if not fileio.gfile.exists(os.path.join(module_dir, "saved_model.pb")):
            module_dir = release.serving_model_dir
        if not fileio.gfile.exists(os.path.join(module_dir, "saved_model.pb")):
            raise PublishError(f"the model has no SavedModel at {release.hub_model_dir} or "
                               f"{release.serving_model_dir}; or switch TF Hub off")
        self.stage_tree(module_dir, version)
        self.stage_json(version, SOURCE_RECORD, release.source_record(version))
        # The archive form TF Hub hosting serves: the SavedModel's files at the top of a .tar.gz.
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, "module")
            fileio.copy_files(self.staging_dir(version), local, self.staged_files[version])
            tarball = os.path.join(tmp, "module.tar.gz")
            with tarfile.open(tarball, "w:gz") as archive:
                for name in sorted(os.listdir(local)):
                    archive.add(os.path.join(local, name), arcname=name)
            fileio.gfile.copy(tarball, self.staged_archive(version), overwrite=True)

    def commit(self, release: Release, version: int) -> str:
        final = self.promote(version, last=("saved_model.pb",))
        fileio.gfile.rename(self.staged_archive(version), self.archive(version), overwrite=True)
        return final

    def abort(self, version: int) -> None:
        super().abort(version)
        fileio.remove(self.staged_archive(version))
