//! A NIfTI file written block by block, for outputs larger than memory
//! (patch-wise inference): the header goes out first under a temporary
//! name, voxels arrive as blocks in any order (and can be read back, to
//! accumulate), and the file is renamed into place only when finished. A
//! `.nii.gz` target is compressed from the finished temporary `.nii` on all
//! cores, a few blocks at a time.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::affine::Affine;
use crate::blocks::BlockFile;
use crate::dtype::DataType;
use crate::error::{Error, Result};
use crate::gz;
use crate::writer::{prepare, temp_path, write_atomically, WriteOptions};

/// A NIfTI file being written one block at a time; see the module docs.
/// Dropped unfinished, it leaves nothing behind.
#[derive(Debug)]
pub struct PendingNifti {
    path: PathBuf,
    tmp: PathBuf,
    blocks: Option<BlockFile>,
    gzip: bool,
    level: Option<u32>,
    index: bool,
}

impl PendingNifti {
    /// Start writing an image of `shape` and `dtype` to `path`; every voxel
    /// is zero until a block sets it.
    pub fn create(
        path: impl AsRef<Path>,
        shape: &[usize],
        dtype: DataType,
        affine: &Affine,
        options: &WriteOptions,
    ) -> Result<PendingNifti> {
        let path = path.as_ref();
        let run = || -> Result<PendingNifti> {
            let (header, gzip) = prepare(path, shape, dtype, affine, options)?;
            let tmp = temp_path(path);
            let mut pending = PendingNifti {
                path: path.to_path_buf(),
                tmp: tmp.clone(),
                blocks: None,
                gzip,
                level: options.level,
                index: options.index,
            };
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&tmp)?;
            std::os::unix::fs::FileExt::write_all_at(&file, &header, 0)?;
            let data = shape
                .iter()
                .try_fold(dtype.size() as u64, |acc, &n| acc.checked_mul(n as u64))
                .ok_or_else(|| Error::InvalidData(format!("shape {shape:?} is too large")))?;
            // Sparse: the disk fills as blocks arrive.
            file.set_len(header.len() as u64 + data)?;
            pending.blocks = Some(BlockFile::new(
                file,
                header.len() as u64,
                shape,
                dtype.size(),
            )?);
            Ok(pending)
        };
        run().map_err(|e| e.in_file(path))
    }

    /// The voxels, as blocks (see [`BlockFile`]).
    pub fn blocks(&self) -> Result<&BlockFile> {
        self.blocks.as_ref().ok_or_else(|| {
            Error::InvalidData("the file is already finished".into()).in_file(&self.path)
        })
    }

    /// Sync the file and move it into place (compressing it first for a
    /// gzip target).
    pub fn finish(&mut self) -> Result<()> {
        let blocks = self.blocks.take().ok_or_else(|| {
            Error::InvalidData("the file is already finished".into()).in_file(&self.path)
        })?;
        let result = self.move_into_place(blocks);
        let _ = std::fs::remove_file(&self.tmp);
        result.map_err(|e| e.in_file(&self.path))
    }

    fn move_into_place(&self, blocks: BlockFile) -> Result<()> {
        if !self.gzip {
            blocks.sync()?;
            drop(blocks);
            std::fs::rename(&self.tmp, &self.path)?;
            return Ok(());
        }
        drop(blocks);
        let plain = File::open(&self.tmp)?;
        let len = plain.metadata()?.len();
        let index = write_atomically(&self.path, |out| {
            gz::gzip_parallel_from(&plain, len, self.level, gz::span(), out)
        })?;
        if self.index {
            gz::save_sidecar(
                &gz::sidecar_path(&self.path),
                &index,
                &File::open(&self.path)?,
            )?;
        }
        Ok(())
    }
}

impl Drop for PendingNifti {
    fn drop(&mut self) {
        if self.blocks.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::NiftiFile;

    fn eye() -> Affine {
        let mut a = [[0.0; 4]; 4];
        for (i, row) in a.iter_mut().enumerate() {
            row[i] = 1.0;
        }
        a
    }

    #[test]
    fn blocks_become_a_readable_file_only_when_finished() {
        let dir = std::env::temp_dir().join(format!("tioxide-pending-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["out.nii", "out.nii.gz"] {
            let path = dir.join(name);
            let mut pending = PendingNifti::create(
                &path,
                &[4, 3, 2],
                DataType::U8,
                &eye(),
                &WriteOptions::default(),
            )
            .unwrap();
            let blocks = pending.blocks().unwrap();
            blocks.write(&[0, 0, 1], &[4, 3, 1], &[7; 12]).unwrap();
            blocks.write(&[1, 1, 0], &[2, 1, 1], &[5, 6]).unwrap();
            assert!(!path.exists());
            pending.finish().unwrap();
            assert!(pending.finish().is_err());
            let array = NiftiFile::open(&path).unwrap().read(None).unwrap();
            let mut expected = vec![0u8; 12];
            expected[5] = 5;
            expected[6] = 6;
            expected.extend([7; 12]);
            assert_eq!(array.data.bytes(), &expected[..], "{name}");
            let leftovers = std::fs::read_dir(&dir)
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .ends_with(".tmp")
                })
                .count();
            assert_eq!(leftovers, 0);
        }
        let path = dir.join("dropped.nii");
        drop(
            PendingNifti::create(
                &path,
                &[2, 2],
                DataType::I16,
                &eye(),
                &WriteOptions::default(),
            )
            .unwrap(),
        );
        assert!(!path.exists());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
