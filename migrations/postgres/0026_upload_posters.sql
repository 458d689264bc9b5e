-- A video's poster image (the first picture as JPEG), kept beside its clean copy; NULL when
-- none could be made (not H.264, an old upload): the showcase then shows the campaign image.
ALTER TABLE uploads ADD COLUMN poster_key TEXT;
