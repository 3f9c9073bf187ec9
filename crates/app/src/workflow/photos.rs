//! Photos a resident attaches to a report (at most [`MAX_PHOTOS`]): recognised by their bytes, never their name
//! (JPEG or PNG), at most [`MAX_PHOTO_BYTES`] each, decoded under memory limits and re-encoded as JPEG, so that no
//! camera metadata (EXIF position, maker notes, comments) survives, scaled to at most [`MAX_SIDE`] pixels with a
//! [`THUMBNAIL_SIDE`]-pixel thumbnail. A photo is shown to whoever may see its case, through `disclose`.

use std::io::Cursor;

use domain::disclosure::Audience;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use store::{NewPhoto, PhotoRow, Store, StoreError};
use time::OffsetDateTime;

use super::disclose::seen_as;
use super::{WorkflowError, hold};

pub const MAX_PHOTOS: usize = 5;
pub const MAX_PHOTO_BYTES: usize = 8 * 1024 * 1024;
/// The longest side of a stored photo; larger ones are scaled down.
pub const MAX_SIDE: u32 = 2048;
pub const THUMBNAIL_SIDE: u32 = 320;
/// Images whose header claims more than this many pixels a side are refused before decoding (decompression bombs).
const MAX_DECODED_SIDE: u32 = 12_000;
const JPEG_QUALITY: u8 = 85;

fn refused(message: domain::said::Said) -> WorkflowError {
    WorkflowError::field("photos", message)
}

/// Checks and cleans one uploaded file named `name` (for messages only): the photo as it will be stored.
pub fn clean(name: &str, bytes: &[u8]) -> Result<NewPhoto, WorkflowError> {
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(refused(domain::said!(
            "photo-too-large",
            "{name} is {size} MB; the limit is {limit} MB",
            name = name,
            size = format!("{:.1}", bytes.len() as f64 / 1_048_576.0),
            limit = MAX_PHOTO_BYTES / 1_048_576,
        )));
    }
    let format = image::guess_format(bytes).ok();
    if !matches!(format, Some(ImageFormat::Jpeg | ImageFormat::Png)) {
        return Err(refused(domain::said!(
            "photo-not-image",
            "{name} is not a JPEG or PNG image",
            name = name
        )));
    }
    let mut reader = ImageReader::new(Cursor::new(bytes));
    reader.set_format(format.unwrap_or(ImageFormat::Jpeg));
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DECODED_SIDE);
    limits.max_image_height = Some(MAX_DECODED_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| {
        refused(domain::said!(
            "photo-unreadable",
            "{name} cannot be read as an image: {error}",
            name = name,
            error = e.to_string(),
        ))
    })?;
    let image = fit(decoded, MAX_SIDE);
    let thumbnail = fit(image.clone(), THUMBNAIL_SIDE);
    Ok(NewPhoto {
        content_type: "image/jpeg".into(),
        width: image.width(),
        height: image.height(),
        image: jpeg(&image)?,
        thumbnail: jpeg(&thumbnail)?,
    })
}

fn fit(image: DynamicImage, side: u32) -> DynamicImage {
    if image.width() <= side && image.height() <= side {
        image
    } else {
        image.thumbnail(side, side)
    }
}

/// The pixels alone as JPEG: the encoder writes no metadata it was not given.
fn jpeg(image: &DynamicImage) -> Result<Vec<u8>, WorkflowError> {
    let mut out = Vec::new();
    let rgb = image.to_rgb8();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(&rgb)
        .map_err(|e| WorkflowError::Invalid(format!("photos: re-encoding failed: {e}")))?;
    Ok(out)
}

/// Cleans `bytes` and keeps the photo under the draft's upload `token`; refuses a sixth.
pub async fn upload_photo(
    store: &Store,
    token: &str,
    name: &str,
    bytes: &[u8],
    now: OffsetDateTime,
) -> Result<i64, WorkflowError> {
    let photo = clean(name, bytes)?;
    store
        .save_upload(token, &photo, MAX_PHOTOS, now.unix_timestamp())
        .await?
        .ok_or_else(|| {
            refused(domain::said!(
                "photo-too-many",
                "a report takes at most {max} photos",
                max = MAX_PHOTOS
            ))
        })
}

/// Photo `id` (or its thumbnail) for `audience`: only a photo of a filed case the audience may see; any other is
/// "no such photo", the same as one that does not exist.
pub async fn photo_for(
    store: &Store,
    audience: Audience<'_>,
    id: i64,
    thumbnail: bool,
) -> Result<Option<PhotoRow>, WorkflowError> {
    let Some(photo) = store.photo(id, thumbnail).await? else {
        return Ok(None);
    };
    let Some(case) = photo.case_id else {
        return Ok(None);
    };
    let held = match hold(store, case).await {
        Ok(held) => held,
        Err(WorkflowError::Store(StoreError::NoSuchCase(_))) => return Ok(None),
        Err(e) => return Err(e),
    };
    // Only whether the case is visible: a photo shows no reporter, so nothing is audited and no view is built.
    match seen_as(audience, &held, &held.facts()) {
        Ok(_) => Ok(Some(photo)),
        Err(WorkflowError::Denied(_) | WorkflowError::Store(StoreError::NoSuchCase(_))) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .expect("png");
        out
    }

    /// A JPEG with an EXIF segment (APP1) carrying a GPS-looking marker right after the start-of-image marker.
    fn jpeg_with_exif() -> Vec<u8> {
        let plain = jpeg(&DynamicImage::ImageRgb8(image::RgbImage::new(64, 48))).expect("jpeg");
        let payload = b"Exif\0\0GPSLatitude 30.8703 GPSLongitude 120.0934";
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(payload);
        out.extend_from_slice(&plain[2..]);
        out
    }

    #[test]
    fn metadata_is_stripped_and_large_photos_scaled_with_a_thumbnail() {
        let with_exif = jpeg_with_exif();
        assert!(with_exif.windows(11).any(|w| w == b"GPSLatitude"));
        let cleaned = clean("a.jpg", &with_exif).expect("clean");
        assert!(!cleaned.image.windows(4).any(|w| w == b"Exif"));
        assert!(!cleaned.image.windows(11).any(|w| w == b"GPSLatitude"));
        let big = clean("b.png", &png(3000, 1500)).expect("clean");
        assert_eq!((big.width, big.height), (MAX_SIDE, MAX_SIDE / 2));
        assert_eq!(image::guess_format(&big.image).ok(), Some(ImageFormat::Jpeg));
        let thumb = image::load_from_memory(&big.thumbnail).expect("thumbnail");
        assert_eq!(thumb.width(), THUMBNAIL_SIDE);
    }

    #[test]
    fn other_files_are_refused_naming_the_file_and_the_limit() {
        let e = clean("notes.txt", b"not an image at all").unwrap_err().to_string();
        assert_eq!(e, "photos: notes.txt is not a JPEG or PNG image");
        let mut truncated = png(100, 100);
        truncated.truncate(60);
        assert!(
            clean("cut.png", &truncated)
                .unwrap_err()
                .to_string()
                .starts_with("photos: cut.png cannot be read")
        );
        let huge = vec![0xFF; MAX_PHOTO_BYTES + 1];
        assert!(
            clean("huge.jpg", &huge)
                .unwrap_err()
                .to_string()
                .contains("the limit is 8 MB")
        );
    }
}
